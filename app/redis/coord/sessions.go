package coord

import (
	"cmp"
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// Session limit policies: what a handshake beyond the limit does.
const (
	SessionPolicyCloseOldest = "close_oldest" // admitted; the user's oldest session is closed
	SessionPolicyRefuse      = "refuse"       // refused (HTTP 429 before the upgrade)
)

// LimitSessions is the limit name of concurrent sessions per user
// (LimitMetrics, app.LimitError).
const LimitSessions = "sessions"

var (
	//go:embed sessions.lua
	sessionsSrc string
	//go:embed sessionrefresh.lua
	sessionRefreshSrc string

	sessionsScript       = goredis.NewScript(sessionsSrc)
	sessionRefreshScript = goredis.NewScript(sessionRefreshSrc)
	// sessionCheckScript reads a user's revocation and whether session
	// ARGV[1] was evicted: a script, so that it shares the pipeline of the
	// session's first history read (redis.Conn.RunScript).
	sessionCheckScript = goredis.NewScript(`return {redis.call('GET', KEYS[1]), redis.call('ZSCORE', KEYS[2], ARGV[1])}`)
)

// SessionOptions configure a SessionRegistry.
type SessionOptions struct {
	NodeID string
	Limit  int    // most concurrent sessions per user over the deployment (required, > 0)
	Policy string // SessionPolicyCloseOldest (default) or SessionPolicyRefuse
	// TTL is how long a session counts without its node refreshing it (a
	// crashed node's sessions stop counting after it); Refresh how often
	// the node refreshes its own. Defaults: the presence defaults.
	TTL, Refresh time.Duration
	Metrics      LimitMetrics // nil: none
	Logger       *slog.Logger
}

// SessionRegistry counts every user's WebSocket sessions over all nodes
// (Keys.Sessions) and enforces a limit. Each node pushes its sessions'
// expiry forward every Refresh; a dead node's sessions stop counting after
// TTL. A session the limit closes is marked (Keys.Evicted) before its node
// is told, so that one not listening yet learns it when it starts (Check)
// or at its node's next refresh, which also closes a session that fell out
// of the count while the user has the most sessions allowed without it.
type SessionRegistry struct {
	c    *redis.Conn
	rdb  goredis.UniversalClient
	keys redis.Keys
	opts SessionOptions

	mu       sync.Mutex
	local    map[string]int64 // this node's open sessions: id -> user
	released []released       // removals not written yet
	wake     chan struct{}
}

type released struct { // a session
	user int64
	id   string
}

// NewSessionRegistry returns the registry of node opts.NodeID; Run keeps
// its sessions counted.
func NewSessionRegistry(c *redis.Conn, opts SessionOptions) *SessionRegistry {
	if opts.Limit <= 0 {
		panic("coord: SessionOptions.Limit must be positive")
	}
	opts.Policy = cmp.Or(opts.Policy, SessionPolicyCloseOldest)
	opts.TTL = cmp.Or(max(opts.TTL, 0), DefaultPresenceTTL)
	opts.Refresh = cmp.Or(max(opts.Refresh, 0), DefaultHeartbeat)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &SessionRegistry{c: c, rdb: c.Client(), keys: c.Keys(), opts: opts, local: map[string]int64{}, wake: make(chan struct{}, 1)}
}

// Admit counts a new session of user and returns its id, or until when the
// user is revoked (for the caller's auth to decide). Beyond the limit it
// refuses with an *app.LimitError, or admits and has the oldest sessions
// closed (by Policy). When Redis cannot be reached it admits uncounted
// (id "").
func (r *SessionRegistry) Admit(ctx context.Context, user int64) (id string, revokedUntil time.Time, err error) {
	now := time.Now()
	res, err := r.c.RunScript(ctx, sessionsScript, []string{r.keys.Sessions(user), r.keys.Revoked(user), r.keys.Evicted(user)},
		now.UnixMilli(), r.opts.NodeID+"-"+redis.Token(), now.Add(r.opts.TTL).UnixMilli(), r.opts.Limit, r.opts.Policy,
		r.opts.TTL.Milliseconds()).Slice()
	if err != nil {
		r.opts.Logger.WarnContext(ctx, "session count unavailable; admitting uncounted", "user_id", user, "err", err)
		return "", time.Time{}, nil
	}
	switch ok, _ := res[0].(int64); ok {
	case -1:
		v, _ := res[1].(string)
		sec, _ := strconv.ParseInt(v, 10, 64)
		return "", time.Unix(sec, 0), nil
	case 0:
		r.limited()
		return "", time.Time{}, app.Limited(LimitSessions, 0, "user %d has %d sessions open, the most allowed; close one first", user, r.opts.Limit)
	}
	id, _ = res[1].(string)
	r.mu.Lock()
	r.local[id] = user
	r.mu.Unlock()
	if len(res) > 2 {
		r.limited()
		evicted := make([]released, 0, len(res)-2)
		for _, v := range res[2:] {
			old, _ := v.(string)
			evicted = append(evicted, released{user, old})
		}
		r.tell(ctx, evicted)
	}
	return id, time.Time{}, nil
}

// tell publishes the evict control message of each session, for the node
// holding it to close it (or else read its mark in the Evicted set).
func (r *SessionRegistry) tell(ctx context.Context, evicted []released) {
	pipe := r.rdb.Pipeline()
	for _, x := range evicted {
		r.c.Publish(ctx, pipe, r.keys.Channel(x.user), redis.Control{Control: redis.ControlEvict, Session: x.id}.Payload())
	}
	if _, err := pipe.Exec(ctx); err != nil {
		r.opts.Logger.WarnContext(ctx, "closing evicted sessions failed; their nodes close them at the next refresh", "sessions", len(evicted), "err", err)
	}
}

func (r *SessionRegistry) limited() {
	if r.opts.Metrics != nil {
		r.opts.Metrics.Limited(LimitSessions)
	}
}

// Check tells whether session id of user may go on: it is not among the
// sessions the limit evicted, and until when the user is revoked (zero:
// not), read in one round trip.
func (r *SessionRegistry) Check(ctx context.Context, user int64, id string) (app.SessionCheck, error) {
	var check app.SessionCheck
	res, err := r.c.RunScript(ctx, sessionCheckScript, []string{r.keys.Revoked(user), r.keys.Evicted(user)}, id).Slice()
	if err != nil {
		return check, fmt.Errorf("read the revocation and evictions of user %d: %w", user, err)
	}
	if len(res) != 2 {
		return check, fmt.Errorf("session check of user %d replied %v", user, res)
	}
	if revoked, ok := res[0].(string); ok {
		sec, err := strconv.ParseInt(revoked, 10, 64)
		if err != nil {
			return check, fmt.Errorf("read the revocation of user %d: %q: %w", user, revoked, err)
		}
		check.RevokedUntil = time.Unix(sec, 0)
	}
	_, check.Evicted = res[1].(string)
	return check, nil
}

// Release stops counting session id of user. It never blocks: Run writes
// the removal shortly after.
func (r *SessionRegistry) Release(user int64, id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	delete(r.local, id)
	r.released = append(r.released, released{user, id})
	r.mu.Unlock()
	wake(r.wake)
}

// Run writes removals as they come and refreshes the node's sessions every
// Refresh, until ctx is done; then it removes every session of the node.
func (r *SessionRegistry) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.Refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			for id, user := range r.local {
				r.released = append(r.released, released{user, id})
			}
			clear(r.local)
			r.mu.Unlock()
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			r.removeReleased(cctx)
			cancel()
			return
		case <-r.wake:
			r.removeReleased(ctx)
		case <-tick.C:
			r.refresh(ctx)
		}
	}
}

const batch = 1000 // commands of one pipeline

func (r *SessionRegistry) removeReleased(ctx context.Context) {
	r.mu.Lock()
	rel := r.released
	r.released = nil
	r.mu.Unlock()
	for rel := range slices.Chunk(rel, batch) {
		pipe := r.rdb.Pipeline()
		for _, x := range rel {
			pipe.ZRem(ctx, r.keys.Sessions(x.user), x.id)
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			// They stop counting after TTL anyway.
			r.opts.Logger.WarnContext(ctx, "removing closed sessions failed", "sessions", len(rel), "err", err)
		}
	}
}

// refresh pushes the expiry of the node's open sessions forward (ZADD XX
// never brings back a removed one). sessionrefresh.lua decides on those it
// did not find (evicted, fallen out of the count, lost in a Redis flush),
// and those that no longer count are closed. One closed meanwhile and
// counted again is removed by its release.
func (r *SessionRegistry) refresh(ctx context.Context) {
	r.mu.Lock()
	all := make([]released, 0, len(r.local))
	for id, user := range r.local {
		all = append(all, released{user, id})
	}
	r.mu.Unlock()
	now := time.Now()
	missing := r.extend(ctx, all, now.Add(r.opts.TTL))
	var gone []released
	for missing := range slices.Chunk(missing, batch) {
		results, err := r.c.RunScripts(ctx, sessionRefreshScript, len(missing), func(i int) ([]string, []any) {
			x := missing[i]
			return []string{r.keys.Sessions(x.user), r.keys.Evicted(x.user)},
				[]any{x.id, now.UnixMilli(), now.Add(r.opts.TTL).UnixMilli(), r.opts.Limit, r.opts.TTL.Milliseconds()}
		})
		if err != nil && ctx.Err() == nil {
			r.opts.Logger.WarnContext(ctx, "checking uncounted sessions failed", "sessions", len(missing), "err", err)
		}
		for i, res := range results {
			if v, err := res.Int64(); err == nil && v == 0 {
				gone = append(gone, missing[i])
			}
		}
	}
	if len(gone) > 0 {
		r.limited()
		r.tell(ctx, gone)
	}
}

// extend moves the expiry of sessions in their user's set to exp and
// returns the ones that are not in it.
func (r *SessionRegistry) extend(ctx context.Context, all []released, exp time.Time) []released {
	var missing []released
	for all := range slices.Chunk(all, batch) {
		pipe := r.rdb.Pipeline()
		cmds := make([]*goredis.IntCmd, len(all))
		for i, x := range all {
			key := r.keys.Sessions(x.user)
			cmds[i] = pipe.ZAddArgs(ctx, key, goredis.ZAddArgs{XX: true, Ch: true,
				Members: []goredis.Z{{Score: float64(exp.UnixMilli()), Member: x.id}}})
			pipe.PExpire(ctx, key, r.opts.TTL)
		}
		if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.WarnContext(ctx, "refreshing sessions failed", "sessions", len(all), "err", err)
		}
		for i, cmd := range cmds {
			if changed, err := cmd.Result(); err == nil && changed == 0 {
				missing = append(missing, all[i])
			}
		}
	}
	return missing
}

// LiveSessions lists the sessions of user that count now (of every node,
// oldest first), with their node and admission time read from their ids.
func LiveSessions(ctx context.Context, c *redis.Conn, user int64) ([]app.LiveSession, error) {
	ids, err := c.Client().ZRangeByScore(ctx, c.Keys().Sessions(user),
		&goredis.ZRangeBy{Min: strconv.FormatInt(time.Now().UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", user, err)
	}
	slices.Sort(ids)
	out := make([]app.LiveSession, 0, len(ids))
	for _, id := range ids {
		out = append(out, sessionOf(id))
	}
	return out, nil
}

// sessionOf reads a session id: 10 digits of unix seconds and 6 of
// microseconds (Redis's clock at admission), "-", the node id, "-", a
// token without "-".
func sessionOf(id string) app.LiveSession {
	s := app.LiveSession{ID: id}
	if len(id) < 17 || id[16] != '-' {
		return s
	}
	sec, err1 := strconv.ParseInt(id[:10], 10, 64)
	usec, err2 := strconv.ParseInt(id[10:16], 10, 64)
	if err1 == nil && err2 == nil {
		s.Since = time.Unix(sec, usec*1000)
	}
	if rest := id[17:]; strings.LastIndexByte(rest, '-') > 0 {
		s.NodeID = rest[:strings.LastIndexByte(rest, '-')]
	}
	return s
}
