// Package ws delivers notifications to WebSocket sessions (melody on gin):
// a per-user session registry fed by the node's Redis subscription, with
// resume from a seq, catch-up from the stored list, slow-consumer eviction
// and a draining shutdown.
package ws

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/protocol"
)

// Limits the hub enforces (Metrics.Limited, app.LimitError).
const (
	LimitHandshake = "handshake"          // handshakes per client address (RateLimiter)
	LimitFrames    = protocol.LimitFrames // costly client frames per session per second
)

// RateLimiter bounds events per client address across the nodes.
type RateLimiter interface {
	// AllowAddr takes one event of limit for addr: nil, or an
	// *app.LimitError.
	AllowAddr(ctx context.Context, limit, addr string) error
}

// SessionRegistry counts users' sessions across the nodes and enforces a
// limit per user.
type SessionRegistry interface {
	// Check tells whether the session counted as id may go on: the limit
	// may have evicted it before its node could tell it, and the user may
	// have been revoked since it was admitted.
	Check(ctx context.Context, user int64, id string) (app.SessionCheck, error)
	// Admit counts a new session of user and returns its id ("" when it
	// is not counted), or refuses with an *app.LimitError. It may have
	// another session of the user closed (Hub.Evict on its node). When the
	// user is revoked it admits nothing and returns until when (read in
	// the same step, for auth to decide).
	Admit(ctx context.Context, user int64) (id string, revokedUntil time.Time, err error)
	// Release stops counting a session. It must not block.
	Release(user int64, id string)
}

// History reads users' stored streams and keeps their delivered cursors.
type History interface {
	// Read returns up to limit stored messages of user from a resume
	// point, creating the stream when it does not exist so that the page
	// names its epoch.
	Read(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error)
	// Advance raises user's delivered cursor to pos. It must not block.
	Advance(user int64, pos app.Position)
}

// Inbox marks messages of users' inboxes (redis.Inbox); the new counts
// reach every session of the user through the subscription (Hub.Inbox).
type Inbox interface {
	Mark(ctx context.Context, user int64, m app.InboxMark) (app.Marked, error)
}

// Subscriptions keeps the node subscribed to the channels of users it has
// sessions of.
type Subscriptions interface {
	// Acquire returns once the node is subscribed to user's channel; each
	// Acquire that succeeded needs one Release.
	Acquire(ctx context.Context, user int64) error
	Release(user int64)
}

// Presence is told who is online on this node. It must not block.
type Presence interface {
	UserOnline(user int64)
	UserOffline(user int64)
	SetConnections(n int)
}

// Metrics is told what sessions and messages do: the hub keeps no counters
// of its own. Its methods are called from session goroutines and must not
// block. Reasons are the Reason* and Drop* constants.
type Metrics interface {
	SessionOpened()
	SessionClosed(reason string)
	// CatchUpStarted and CatchUpEnded bracket a session's reading from the
	// stored stream (every session starts so).
	CatchUpStarted()
	CatchUpEnded()
	// FrameRefused counts a client frame answered with an error frame.
	FrameRefused()
	// MessageDelivered counts a message written to a socket.
	MessageDelivered()
	// DeliveryLatency is the time from a message's publish (Redis's clock)
	// to its socket write, for messages published while the session was
	// open, from the millisecond after the handshake on (a backlog replayed
	// on connect is not latency).
	DeliveryLatency(d time.Duration)
	// MessageReplayed counts a message copied from the stored list.
	MessageReplayed()
	MessageDropped(reason string)
	// StreamReset counts a session told that its user's stream has a new
	// epoch (Redis lost the old one): a reset frame, or a connected frame
	// with reset.
	StreamReset()
	// Limited counts a refusal by a limit (a Limit* name).
	Limited(limit string)
}

// Why a session closed (Metrics.SessionClosed); CloseReasons lists them.
const (
	ReasonClient           = "client"            // the client sent a close frame
	ReasonError            = "error"             // the connection broke without a close frame
	ReasonTimeout          = "timeout"           // no pong within PongWait, or a write over WriteWait
	ReasonTooBig           = "too_big"           // a client frame over MaxMessageSize (1009)
	ReasonDrain            = "drain"             // the node is draining (1001)
	ReasonSlowConsumer     = "slow_consumer"     // the send buffer stayed full (4000)
	ReasonBehindHistory    = "behind_history"    // fell out of the stored history (4002)
	ReasonRedisUnavailable = "redis_unavailable" // could not subscribe or read history (1013)
	ReasonShutdown         = "shutdown"          // the hub was closed
	ReasonTokenExpired     = "token_expired"     // the token expired without a refresh (4001)
	ReasonRevoked          = "revoked"           // an operator disconnected the user (4003)
	ReasonTooManySessions  = "too_many_sessions" // the user's oldest session over the limit, or no longer counted (4008)
	ReasonRateLimited      = "rate_limited"      // too many client frames (4029)
)

// CloseReasons are every Reason*, for metrics to know their labels.
var CloseReasons = []string{ReasonClient, ReasonError, ReasonTimeout, ReasonTooBig, ReasonDrain,
	ReasonSlowConsumer, ReasonBehindHistory, ReasonRedisUnavailable, ReasonShutdown,
	ReasonTokenExpired, ReasonRevoked, ReasonTooManySessions, ReasonRateLimited}

// Why a message was not written to a session (Metrics.MessageDropped);
// DropReasons lists them.
const (
	DropDuplicate = "duplicate" // the live copy of a message the session already has
	DropClosed    = "closed"    // offered to a session that was closing
	DropUnsent    = "unsent"    // in the send buffer when the session closed
)

// DropReasons are every Drop*, for metrics to know their labels.
var DropReasons = []string{DropDuplicate, DropClosed, DropUnsent}

// Defaults of the Options left zero.
const (
	DefaultMaxMessageSize = protocol.DefaultMaxFrameBytes
	DefaultBufferSize     = 16 // messages
	DefaultPingPeriod     = 54 * time.Second
	DefaultPongWait       = 60 * time.Second
	DefaultWriteWait      = 10 * time.Second
	DefaultSlowTimeout    = 5 * time.Second
)

// Options configure a Hub. Zero values take the defaults.
type Options struct {
	NodeID         string
	Auth           *auth.Authenticator // who a handshake speaks for (required)
	Inbox          Inbox               // takes mark frames (nil: refused as unavailable)
	AllowedOrigins []string            // besides the request's own host; "*" allows any

	MaxMessageSize int64              // largest client frame (default 4096 B); larger closes with 1009
	BufferSize     int                // per-session send buffer in messages (default 16)
	PingPeriod     time.Duration      // default 54 s
	PongWait       time.Duration      // a silent peer is dropped after this (default 60 s)
	WriteWait      time.Duration      // default 10 s
	SlowTimeout    time.Duration      // a full send buffer may make no progress this long (default 5 s)
	ReplayPage     int                // messages read from Redis per catch-up step (default 100)
	MaxReads       int                // history reads in flight at once on the node (default 64): a Redis that comes back is not hit by every session at once
	Reconnect      protocol.Reconnect // default protocol.DefaultReconnect

	// Limits; nil or 0 turns each off (FrameRate has no default here:
	// protocol.DefaultFrameRate is the configuration's).
	Handshakes RateLimiter     // LimitHandshake per client address (the connection's remote address)
	Sessions   SessionRegistry // concurrent sessions per user
	FrameRate  int             // costly client frames per session per second, in bursts of as many (see conn.charge)

	Logger  *slog.Logger
	Metrics Metrics // nil: none
}

func (o *Options) defaults() {
	o.MaxMessageSize = app.OrDefault(o.MaxMessageSize, DefaultMaxMessageSize)
	o.BufferSize = app.OrDefault(o.BufferSize, DefaultBufferSize)
	o.PingPeriod = app.OrDefault(o.PingPeriod, DefaultPingPeriod)
	o.PongWait = app.OrDefault(o.PongWait, DefaultPongWait)
	o.WriteWait = app.OrDefault(o.WriteWait, DefaultWriteWait)
	o.SlowTimeout = app.OrDefault(o.SlowTimeout, DefaultSlowTimeout)
	o.ReplayPage = app.OrDefault(o.ReplayPage, 100)
	o.MaxReads = app.OrDefault(o.MaxReads, 64)
	o.Reconnect = cmp.Or(o.Reconnect, protocol.DefaultReconnect)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	o.Metrics = cmp.Or[Metrics](o.Metrics, noMetrics{})
}

type noMetrics struct{}

func (noMetrics) SessionOpened()                {}
func (noMetrics) SessionClosed(string)          {}
func (noMetrics) MessageDelivered()             {}
func (noMetrics) DeliveryLatency(time.Duration) {}
func (noMetrics) MessageReplayed()              {}
func (noMetrics) MessageDropped(string)         {}
func (noMetrics) StreamReset()                  {}
func (noMetrics) CatchUpStarted()               {}
func (noMetrics) CatchUpEnded()                 {}
func (noMetrics) FrameRefused()                 {}
func (noMetrics) Limited(string)                {}
