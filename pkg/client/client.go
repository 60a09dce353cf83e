// Package client is the Go client of the house-viewing push gateway's
// WebSocket protocol (docs/protocol.md). It keeps one session open,
// reconnects with the backoff the gateway advises (rotating through the
// given URLs), resumes from the last notification it handed over, follows
// the user's stream across a Redis reset (epochs), drops duplicates,
// acknowledges what it handed over, refreshes its token before it expires,
// and finds a dead connection with pings: a service that reads
// Notifications never loses one across reconnects, node deaths, drains or
// resets. Its frames, close codes, reconnect rule and refresh rule are
// those of pkg/protocol; it knows nothing of the gateway's own packages.
//
//	c, err := client.Dial(ctx, client.Options{
//		URLs:      []string{"ws://gw-1:8080", "ws://gw-2:8080"},
//		TokenFunc: func(ctx context.Context) (string, error) { return mintToken(1001) },
//		Store:     client.NewFileStore("/var/lib/myapp/gateway-positions"),
//	})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	for n := range c.Notifications() {
//		log.Printf("seq %d: %s", n.Seq, n.Content)
//	}
package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/houseview/gateway/pkg/protocol"
)

// Position is the place of a notification in a user's stream: seqs count
// within an epoch; a stream that the gateway's Redis lost comes back with
// a new epoch.
type Position struct {
	Epoch string `json:"epoch"`
	Seq   int64  `json:"seq"`
}

// Store keeps a user's position between runs (see NewFileStore).
type Store interface {
	Load(user int64) (Position, bool, error)
	Save(user int64, p Position) error
}

// Options configure Dial. URLs and one of UserID, Token or TokenFunc are
// required.
type Options struct {
	// URLs are the gateways' bases ("ws://host:8080", "wss://...", or
	// http(s):// ones), tried in turn on each reconnect.
	URLs []string
	// UserID names the user in insecure mode.
	UserID int64
	// Token is a fixed JWT (jwt mode); TokenFunc, when set, is asked for a
	// fresh one on every connect and before the token expires.
	Token     string
	TokenFunc func(ctx context.Context) (string, error)
	// User is the user the position is stored under; it defaults to
	// UserID, the subject of the token, or the user of the first
	// connected frame.
	User int64
	// LastSeq and Epoch resume from a known position (Store wins when it
	// has one).
	LastSeq int64
	Epoch   string
	// Store keeps the position across runs (nil: memory only).
	Store Store
	// NoAck turns acknowledgements off: the gateway then counts a message
	// as delivered when it is written to the socket.
	NoAck bool
	// AckInterval batches acknowledgements (default 1 s).
	AckInterval time.Duration
	// AckEach acknowledges every notification as soon as it is received
	// from Notifications, one ack frame each (acks of delivered messages
	// cost nothing against the gateway's limits), instead of batching.
	AckEach bool
	// PingInterval is the silence after which the client pings; no frame
	// within PongTimeout after the ping ends the connection (a reconnect
	// follows). PingInterval defaults to the gateway's advised heartbeat
	// plus 5 s, so that the gateway's own pings keep an idle connection
	// quiet (a dead one is found within about a minute with the default
	// 54 s heartbeat); PongTimeout defaults to 10 s.
	PingInterval, PongTimeout time.Duration
	// RefreshBefore is how long before its expiry a long-lived token is
	// refreshed in-band (default protocol.RefreshLead, 30 s; needs
	// TokenFunc). A shorter-lived one is refreshed halfway through what is
	// left of it (protocol.RefreshDelay); each token is sent once.
	RefreshBefore time.Duration
	// Dialer and Header are used for every handshake (nil: defaults).
	Dialer *websocket.Dialer
	Header http.Header
	Logger *slog.Logger
}

// Notification is one message of the user's stream.
type Notification struct {
	protocol.Notification
	Detail json.RawMessage `json:"detail"`
	Raw    []byte          `json:"-"` // the frame as it came (it may hold fields this struct lacks)
}

// EventKind names what happened to the session.
type EventKind string

// The events.
const (
	Connected    EventKind = "connected"    // a session is open (Info holds the connected frame)
	Disconnected EventKind = "disconnected" // it ended (Code, Err); a reconnect follows unless closed
	Reset        EventKind = "reset"        // the stream was recreated: positions of the old epoch are void
	Truncated    EventKind = "truncated"    // messages between the position and Info.LastSeq were trimmed
	Refreshed    EventKind = "refreshed"    // the token was refreshed in-band (Info.Exp)
	Inbox        EventKind = "inbox"        // the user's inbox counts changed (Counts)
	Error        EventKind = "error"        // a refused handshake or an error frame (Err)
)

// Event is something that happened to the session, besides notifications.
type Event struct {
	Kind EventKind
	Info ConnectedInfo // connected, reset, truncated, refreshed
	Code int           // disconnected: the close code (0: none)
	Err  error
	// Counts are the user's inbox counts (inbox, and connected and reset,
	// which carry them too).
	Counts Counts
}

// Counts are the user's inbox counts: stored messages not seen, not read.
type Counts struct {
	Unseen int64 `json:"unseen"`
	Unread int64 `json:"unread"`
}

// Mark marks messages of the user's inbox with State (protocol.StateSeen,
// StateRead or StateArchived, with the states each implies): the message
// Seq, every stored one up to UpTo, or All of them (exactly one). Epoch is
// the epoch the seqs belong to (a notification's; "": the session's).
type Mark struct {
	State string
	Seq   int64
	UpTo  int64
	All   bool
	Epoch string
}

// ConnectedInfo is what a connected (or reset) frame said.
type ConnectedInfo struct {
	NodeID      string
	UserID      int64
	Epoch       string
	LastSeq     int64
	HeadSeq     int64
	Truncated   bool
	Reset       bool
	Exp         int64
	HeartbeatMS int64
	Reconnect   protocol.Reconnect
	Counts      Counts // the inbox counts (connected, reset)
}

// Client is a session with the gateway that reconnects until Close.
type Client struct {
	opts   Options
	notes  chan Notification
	events chan Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	emitMu  sync.RWMutex
	stopped bool // events is closed

	delivered, duplicates, connects atomic.Int64

	mu       sync.Mutex
	live     *liveSession // the open session (nil: none)
	counts   Counts       // the newest inbox counts the gateway sent
	err      error        // why the client stopped by itself
	pos      Position     // the last notification handed over
	known    bool         // pos comes from a frame or the store (else: none yet)
	user     int64
	advice   protocol.Reconnect
	attempt  int
	urlIndex int
}

// Dial connects and returns once the first session is open (its connected
// frame came) or ctx ends. The client then reconnects by itself until
// Close; read Notifications (and, if you like, Events).
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	opts.defaults()
	c := &Client{opts: opts, notes: make(chan Notification), events: make(chan Event, 64),
		done: make(chan struct{}), advice: protocol.DefaultReconnect}
	if opts.Epoch != "" || opts.LastSeq > 0 {
		c.pos, c.known = Position{Epoch: opts.Epoch, Seq: opts.LastSeq}, true
	}
	user := opts.User
	if user == 0 {
		user = opts.UserID
	}
	if user == 0 {
		user = tokenUser(opts.Token)
	}
	if err := c.learnUser(user); err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	first := make(chan error, 1)
	go c.run(first)
	select {
	case err := <-first:
		if err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

func (o *Options) check() error {
	if len(o.URLs) == 0 {
		return errors.New("client: Options.URLs is empty")
	}
	if o.UserID == 0 && o.Token == "" && o.TokenFunc == nil {
		return errors.New("client: one of Options.UserID, Token or TokenFunc is needed")
	}
	return nil
}

func (o *Options) defaults() {
	if o.AckInterval <= 0 {
		o.AckInterval = time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 10 * time.Second
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = protocol.RefreshLead
	}
	if o.Dialer == nil {
		o.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Notifications delivers the user's notifications, each once, in order
// within an epoch. The position advances when one is received from here.
// It is closed by Close.
func (c *Client) Notifications() <-chan Notification { return c.notes }

// Events reports connects, disconnects, resets and errors. It drops events
// nobody reads (it never blocks the session) and is closed by Close.
func (c *Client) Events() <-chan Event { return c.events }

// Position is the last notification handed over.
func (c *Client) Position() Position {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos
}

// Counts returns the user's inbox counts as the gateway last sent them
// (connected, reset and inbox frames; an Inbox event tells each change).
func (c *Client) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts
}

// ErrNotConnected: Mark was called while no session is open (the client
// is reconnecting); mark again once Connected.
var ErrNotConnected = errors.New("client: no session is open")

// Mark sends a mark frame on the open session. The gateway answers a bad
// one with an error frame (an Error event, e.g. not_found for a seq that is
// not stored any more); a mark that changes something reaches every
// session of the user as new counts (an Inbox event).
func (c *Client) Mark(m Mark) error {
	n := 0
	for _, set := range []bool{m.Seq > 0, m.UpTo > 0, m.All} {
		if set {
			n++
		}
	}
	if m.State == "" || n != 1 {
		return errors.New("client: a mark needs a state and exactly one of Seq, UpTo and All")
	}
	c.mu.Lock()
	s := c.live
	c.mu.Unlock()
	if s == nil {
		return ErrNotConnected
	}
	return s.write(mustJSON(protocol.Mark{Action: protocol.ActionMark, State: m.State, Seq: m.Seq, UpTo: m.UpTo, All: m.All,
		Epoch: m.Epoch}))
}

// MarkRead marks notification n read on every device of the user.
func (c *Client) MarkRead(n Notification) error {
	return c.Mark(Mark{State: protocol.StateRead, Seq: n.Seq, Epoch: n.Epoch})
}

// Stats counts what the client did since Dial.
type Stats struct {
	Delivered  int64 // notifications handed over
	Duplicates int64 // notifications dropped as already handed over (the gateway resent them)
	Connects   int64 // sessions that got their connected frame
}

// Stats returns the counts so far.
func (c *Client) Stats() Stats {
	return Stats{Delivered: c.delivered.Load(), Duplicates: c.duplicates.Load(), Connects: c.connects.Load()}
}

// Close ends the session and stops reconnecting.
func (c *Client) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// emit reports e without ever blocking (and not at all once the client
// stopped: timers of the last session may still fire).
func (c *Client) emit(e Event) {
	c.emitMu.RLock()
	defer c.emitMu.RUnlock()
	if c.stopped {
		return
	}
	select {
	case c.events <- e:
	default:
	}
}

// run keeps sessions open until Close or a terminal refusal; first gets
// the result of the first connect.
func (c *Client) run(first chan<- error) {
	defer close(c.done)
	defer close(c.notes)
	defer func() {
		c.emitMu.Lock()
		c.stopped = true
		close(c.events)
		c.emitMu.Unlock()
	}()
	for c.ctx.Err() == nil {
		r := c.session(first)
		if r.connected {
			first = nil
		}
		if c.ctx.Err() != nil {
			return
		}
		d := c.decide(r)
		if !d.Reconnect {
			err := r.refusal
			if err == nil {
				err = fmt.Errorf("client: closed by the gateway with %d (%s): reconnecting cannot help", r.code, protocol.Close(r.code).Name)
			}
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			if first != nil {
				first <- err
			}
			return
		}
		if !c.wait(d.Delay) {
			return
		}
	}
}

type outcome struct {
	connected  bool          // it got as far as the connected frame
	code       int           // the close code (protocol.CloseAbnormal: none)
	status     int           // the HTTP status of a refused handshake (0: not refused)
	retryAfter time.Duration // a 429's Retry-After
	refusal    error         // the refused handshake's *HandshakeError
}

// decide applies the protocol's reconnect rule to how a session ended.
func (c *Client) decide(r outcome) protocol.Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.connected {
		c.attempt = 0
	}
	return protocol.Decide(protocol.Attempt{Code: r.code, Status: r.status, RetryAfter: r.retryAfter,
		WasOpen: r.connected, Attempts: c.attempt, Advice: c.advice, TokenSource: c.opts.TokenFunc != nil,
		Random: rand.Float64()})
}

func (c *Client) wait(d time.Duration) bool {
	c.mu.Lock()
	c.attempt++
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// Err is why the client stopped on its own (Notifications closed without
// Close): a refusal that reconnecting cannot cure. Nil otherwise.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Client) url(token string) string {
	c.mu.Lock()
	base := c.opts.URLs[c.urlIndex%len(c.opts.URLs)]
	c.urlIndex++
	pos, known := c.pos, c.known
	c.mu.Unlock()
	base = strings.TrimRight(base, "/")
	switch {
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	}
	q := make([]string, 0, 4)
	if c.opts.UserID != 0 {
		q = append(q, fmt.Sprintf("user_id=%d", c.opts.UserID))
	}
	if token != "" {
		q = append(q, "token="+token)
	}
	if known {
		q = append(q, fmt.Sprintf("last_seq=%d", pos.Seq))
		if pos.Epoch != "" {
			q = append(q, "epoch="+pos.Epoch)
		}
	}
	if !c.opts.NoAck {
		q = append(q, "ack=1")
	}
	return base + "/ws?" + strings.Join(q, "&")
}

func (c *Client) token(ctx context.Context) (string, error) {
	if c.opts.TokenFunc != nil {
		return c.opts.TokenFunc(ctx)
	}
	return c.opts.Token, nil
}

// FileStore keeps each user's position in a small JSON file of a
// directory. Saves replace the file atomically (write, then rename) but do
// not fsync: after a power loss a position may be older than the last
// notification handed over, which costs duplicates on the next resume,
// never a loss.
type FileStore struct {
	dir string
	mu  sync.Mutex
}

var _ Store = (*FileStore)(nil)

// NewFileStore returns a FileStore in dir, which it creates when needed.
func NewFileStore(dir string) *FileStore { return &FileStore{dir: dir} }

func (f *FileStore) path(user int64) string {
	return filepath.Join(f.dir, strconv.FormatInt(user, 10)+".json")
}

// Load reads user's position; ok is false when none was saved (or the
// file is unreadable as a position).
func (f *FileStore) Load(user int64) (Position, bool, error) {
	b, err := os.ReadFile(f.path(user))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, err
	}
	var p Position
	if json.Unmarshal(b, &p) != nil || p.Seq < 0 {
		return Position{}, false, nil
	}
	return p, true, nil
}

// Save writes user's position.
func (f *FileStore) Save(user int64, p Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	tmp := f.path(user) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, f.path(user))
}

// MemoryStore keeps positions in memory (for tests and short-lived
// processes that hand a position from one Client to the next).
type MemoryStore struct {
	mu  sync.Mutex
	pos map[int64]Position
}

var _ Store = (*MemoryStore)(nil)

// Load returns user's position.
func (m *MemoryStore) Load(user int64) (Position, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pos[user]
	return p, ok, nil
}

// Save records user's position.
func (m *MemoryStore) Save(user int64, p Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pos == nil {
		m.pos = map[int64]Position{}
	}
	m.pos[user] = p
	return nil
}

// tokenUser is the user a gateway JWT names (its subject), read without
// verifying it: only to find the user's stored position before the
// handshake. 0 when the token does not say.
func tokenUser(token string) int64 {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return 0
	}
	id, err := strconv.ParseInt(claims.Sub, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// learnUser records the user once it is known (options, a token, the
// connected frame) and takes its stored position, if the store has one.
func (c *Client) learnUser(user int64) error {
	c.mu.Lock()
	if user <= 0 || c.user != 0 {
		c.mu.Unlock()
		return nil
	}
	c.user = user
	c.mu.Unlock()
	if c.opts.Store == nil {
		return nil
	}
	p, ok, err := c.opts.Store.Load(user)
	if err != nil {
		return fmt.Errorf("client: load position: %w", err)
	}
	if ok {
		c.mu.Lock()
		c.pos, c.known = p, true
		c.mu.Unlock()
	}
	return nil
}
