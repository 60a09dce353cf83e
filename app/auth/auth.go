// Package auth is the one place that decides who a caller is and what each
// operation allows. The transports (REST, gRPC, the WebSocket handshake)
// only take the credentials out of a request, name the operation, and map
// the errors; Policy is the table they all consult.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// Access is what an operation requires of its caller.
type Access int

// The kinds of access.
const (
	// Public: anyone. A bearer token that is sent must be valid (jwt mode).
	Public Access = iota
	// User: the operation reads or acts on one user's data. In jwt mode it
	// needs that user's token; in insecure mode the user id the request
	// names is trusted.
	User
	// Server: trusted backends, with the server API key, in both modes.
	Server
	// Trusted: the server API key in jwt mode; open in insecure mode (as the
	// original system's presence routes were).
	Trusted
	// Operator: operator pages. In jwt mode the API key, or the operator's
	// basic credentials (for a browser); in insecure mode loopback callers,
	// or the API key. A state-changing request that a browser marks as
	// cross-site is refused unless it carries the API key.
	Operator
	// UserOrServer: one user's data that the user manages and a trusted
	// backend may manage for them. As User, and also the server API key
	// (in both modes), whose caller names the user in the request.
	UserOrServer
)

// NamesUser reports whether operations of access a act for one user that
// the handler resolves with Caller.Actor (User and UserOrServer).
func (a Access) NamesUser() bool { return a == User || a == UserOrServer }

// Operation names an operation of any transport.
type Operation string

// The operations. Transports map their routes and methods onto these.
const (
	Probe             Operation = "probe"              // liveness and readiness
	Recommend         Operation = "recommend"          // the public house list
	PersonalRecommend Operation = "personal_recommend" // houses for one user: reveals where the user booked
	Reserve           Operation = "reserve"
	Confirm           Operation = "confirm"
	Reject            Operation = "reject"
	Cancel            Operation = "cancel"
	Remind            Operation = "remind"
	GetReservation    Operation = "get_reservation"
	ListReservations  Operation = "list_reservations"
	Subscribe         Operation = "subscribe"       // a WebSocket session of one user
	Messages          Operation = "messages"        // one user's stored messages (HTTP catch-up)
	Push              Operation = "push"            // generic server push
	Presence          Operation = "presence"        // who is online, cluster stats
	Operate           Operation = "operate"         // metrics, pprof, the asynq UI
	Disconnect        Operation = "disconnect"      // close a user's sessions on every node, refuse new ones for a while
	RegisterDevice    Operation = "register_device" // a device of a user's that receives mobile push
	ListDevices       Operation = "list_devices"
	DeleteDevice      Operation = "delete_device"
	GetPreferences    Operation = "get_preferences"    // a user's notification preferences
	UpdatePreferences Operation = "update_preferences" // replace them
	ListInbox         Operation = "list_inbox"         // a user's stored messages with their states
	MarkInbox         Operation = "mark_inbox"         // mark a user's messages seen, read or archived
	InboxCounts       Operation = "inbox_counts"       // a user's unseen and unread counts
)

// Policy is the access each operation needs: the one table that every
// transport consults.
var Policy = map[Operation]Access{
	Probe:             Public,
	Recommend:         Public,
	PersonalRecommend: User,
	Reserve:           User,
	Confirm:           User,
	Reject:            User,
	Cancel:            User,
	Remind:            User,
	GetReservation:    User,
	ListReservations:  User,
	Subscribe:         User,
	Messages:          User,
	Push:              Server,
	Presence:          Trusted,
	Operate:           Operator,
	Disconnect:        Server,
	RegisterDevice:    UserOrServer,
	ListDevices:       UserOrServer,
	DeleteDevice:      UserOrServer,
	GetPreferences:    UserOrServer,
	UpdatePreferences: UserOrServer,
	ListInbox:         UserOrServer,
	MarkInbox:         UserOrServer,
	InboxCounts:       UserOrServer,
}

// Options configure an Authenticator.
type Options struct {
	Mode   app.AuthMode
	Verify func(token string) (jwtauth.Claims, error) // the user a token names and its expiry; required in jwt mode
	APIKey string                                     // the server API key; empty: Server and Trusted access are closed
	// OperatorUser and OperatorPassword are the basic credentials of
	// operator pages; the password defaults to the API key.
	OperatorUser, OperatorPassword string
	// Revocations say until when a user's new sessions are refused (nil:
	// never). See Admit.
	Revocations Revocations
}

// Authenticator resolves callers for the Policy.
type Authenticator struct {
	opts Options
}

// New returns an Authenticator. It panics on an unknown mode or a jwt mode
// without Verify: a wiring mistake.
func New(opts Options) *Authenticator {
	switch opts.Mode {
	case app.AuthInsecure:
	case app.AuthJWT:
		if opts.Verify == nil {
			panic("auth: jwt mode needs Options.Verify")
		}
	default:
		panic(fmt.Sprintf("auth: unknown mode %q", opts.Mode))
	}
	if opts.OperatorPassword == "" {
		opts.OperatorPassword = opts.APIKey
	}
	return &Authenticator{opts: opts}
}

// Mode is the auth mode.
func (a *Authenticator) Mode() app.AuthMode { return a.opts.Mode }

// Credentials are what a request presents.
type Credentials struct {
	Bearer string // a bearer token: a user's JWT, or the server API key
	// Basic credentials (operator pages only).
	BasicUser, BasicPassword string
	HasBasic                 bool
	// Facts about the request that operator pages weigh: it came from a
	// loopback address; it changes state and a browser marked it as
	// cross-site (Origin or Sec-Fetch-Site).
	Loopback, CrossSite bool
}

// Caller is who made a request, as decided for its operation.
type Caller struct {
	mode    app.AuthMode
	user    int64     // the token's user in jwt mode; 0 otherwise
	expires time.Time // the token's expiry in jwt mode; zero otherwise
	server  bool      // the server API key (UserOrServer access): it names the user
}

// Server reports whether the caller presented the server API key (only
// UserOrServer operations tell).
func (c Caller) Server() bool { return c.server }

// Expires is when the caller's token expires (zero without a token).
func (c Caller) Expires() time.Time { return c.expires }

// The caller-safe wording of every refusal, the same on every transport.
var (
	errNoToken     = app.Errorf(app.EUnauthenticated, "missing bearer token")
	errBadToken    = app.Errorf(app.EUnauthenticated, "invalid bearer token")
	errNoKey       = app.Errorf(app.EPermissionDenied, "no api_key is configured: this operation is closed")
	errBadKey      = app.Errorf(app.EUnauthenticated, "missing or invalid api key")
	errNoOperator  = app.Errorf(app.EPermissionDenied, "no api_key or ui.password is configured: operator pages are closed")
	errBadOperator = app.Errorf(app.EUnauthenticated, "operator credentials required")
	errNotLoopback = app.Errorf(app.EPermissionDenied, "in insecure mode operator pages answer loopback addresses only, or the api key")
	errCrossSite   = app.Errorf(app.EPermissionDenied, "cross-site request refused: send it from the page's own origin, or with the api key")
)

// Authorize decides whether cred may run op and returns the caller. Errors
// are app errors: EUnauthenticated (missing or invalid credentials),
// EPermissionDenied (the operation is closed on this node).
func (a *Authenticator) Authorize(op Operation, cred Credentials) (Caller, error) {
	access, ok := Policy[op]
	if !ok {
		panic(fmt.Sprintf("auth: operation %q is not in the policy", op))
	}
	c := Caller{mode: a.opts.Mode}
	switch access {
	case Server:
		return c, a.checkKey(cred.Bearer)
	case Trusted:
		if a.opts.Mode == app.AuthInsecure {
			return c, nil
		}
		return c, a.checkKey(cred.Bearer)
	case Operator:
		return c, a.checkOperator(cred)
	case UserOrServer:
		if a.opts.APIKey != "" && cred.Bearer != "" && equal(cred.Bearer, a.opts.APIKey) {
			c.server = true
			return c, nil
		}
	}
	if a.opts.Mode == app.AuthInsecure {
		return c, nil // the ids in the request are trusted
	}
	if cred.Bearer == "" {
		if access == Public {
			return c, nil
		}
		return c, errNoToken
	}
	claims, err := a.opts.Verify(cred.Bearer)
	if err != nil || claims.User <= 0 {
		return c, errBadToken
	}
	c.user, c.expires = claims.User, claims.Expires
	return c, nil
}

// Actor resolves the user acting in a User (or UserOrServer) operation.
// claimed is the id the request names in field (0: absent). In jwt mode
// the token decides and another id is refused; in insecure mode, and for
// the server API key, the claimed id is trusted and required.
func (c Caller) Actor(claimed int64, field string) (int64, error) {
	if claimed < 0 {
		return 0, app.Errorf(app.EInvalidArgument, "%s must be a positive integer", field)
	}
	if c.mode == app.AuthJWT && !c.server {
		if c.user <= 0 {
			return 0, errNoToken
		}
		if claimed != 0 && claimed != c.user {
			return 0, app.Errorf(app.EPermissionDenied, "%s %d is not the authenticated user", field, claimed)
		}
		return c.user, nil
	}
	if claimed == 0 {
		return 0, app.Errorf(app.EInvalidArgument, "%s is required and must be a positive integer", field)
	}
	return claimed, nil
}

// Viewer is like Actor for reads of one reservation: in insecure mode a
// missing id means an unchecked (trusted) read and returns 0.
func (c Caller) Viewer(claimed int64, field string) (int64, error) {
	if c.mode == app.AuthInsecure && claimed == 0 {
		return 0, nil
	}
	return c.Actor(claimed, field)
}

func (a *Authenticator) checkKey(token string) error {
	switch {
	case a.opts.APIKey == "":
		return errNoKey
	case token == "" || !equal(token, a.opts.APIKey):
		return errBadKey
	}
	return nil
}

// checkOperator decides Operator access: who may, then whether a
// state-changing request may come from another site. Only the API key, a
// credential a browser never attaches by itself, overrides a cross-site
// mark: cached basic credentials and a loopback address do not.
func (a *Authenticator) checkOperator(cred Credentials) error {
	key := a.opts.APIKey != "" && cred.Bearer != "" && equal(cred.Bearer, a.opts.APIKey)
	switch {
	case key:
		return nil
	case a.opts.Mode == app.AuthInsecure:
		if !cred.Loopback {
			return errNotLoopback
		}
	case a.opts.OperatorPassword == "":
		return errNoOperator
	case !cred.HasBasic:
		return errBadOperator
	case !equal(cred.BasicUser, a.opts.OperatorUser) || !equal(cred.BasicPassword, a.opts.OperatorPassword):
		return errBadOperator
	}
	if cred.CrossSite {
		return errCrossSite
	}
	return nil
}

// equal compares in constant time, whatever the lengths (hashing first).
func equal(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(x[:], y[:]) == 1
}

// Revocations keep, per user, until when new sessions and token refreshes
// are refused (POST /api/users/{id}/disconnect with "until").
type Revocations interface {
	// RevokedUntil returns the time user's sessions are refused until;
	// zero (or a past time) when they are not.
	RevokedUntil(ctx context.Context, user int64) (time.Time, error)
}

// Admit decides whether user may open a session now (a WebSocket
// handshake, after Authorize and Actor): not while the user is revoked.
// The errors are EPermissionDenied (revoked) and EUnavailable (the
// revocations cannot be read: refused rather than let through).
func (a *Authenticator) Admit(ctx context.Context, user int64) error {
	if a.opts.Revocations == nil {
		return nil
	}
	until, err := a.opts.Revocations.RevokedUntil(ctx, user)
	if err != nil {
		return app.Errorf(app.EUnavailable, "cannot check the user's revocation now; try again")
	}
	return AdmitUntil(user, until)
}

// AdmitUntil is Admit with the user's revocation already read (with
// another command of the same round trip): EPermissionDenied while until
// is ahead.
func AdmitUntil(user int64, until time.Time) error {
	if time.Now().Before(until) {
		return app.Errorf(app.EPermissionDenied, "user %d is revoked until %d (unix seconds)", user, until.Unix())
	}
	return nil
}

// Refresh verifies a token that a live session of user presents to extend
// itself, and returns its expiry. It must be a valid token of the same
// user, and the user must not be revoked. In insecure mode sessions have
// no tokens to refresh: EFailedPrecondition.
func (a *Authenticator) Refresh(ctx context.Context, user int64, token string) (time.Time, error) {
	if a.opts.Mode != app.AuthJWT {
		return time.Time{}, app.Errorf(app.EFailedPrecondition, "insecure mode: sessions have no token to refresh")
	}
	if token == "" {
		return time.Time{}, errNoToken
	}
	claims, err := a.opts.Verify(token)
	if err != nil || claims.User <= 0 {
		return time.Time{}, errBadToken
	}
	if claims.User != user {
		return time.Time{}, app.Errorf(app.EPermissionDenied, "the token is for another user than the session's")
	}
	if err := a.Admit(ctx, user); err != nil {
		return time.Time{}, err
	}
	return claims.Expires, nil
}
