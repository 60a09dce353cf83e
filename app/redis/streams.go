package redis

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
)

// StreamsOptions configure Streams.
type StreamsOptions struct {
	HistoryTTL    time.Duration // lifetime of a stream a read creates (default 7 days, as the publisher's)
	FlushInterval time.Duration // how often cursor advances are written (default 1 s)
	Logger        *slog.Logger
}

// Streams reads users' stored streams for sessions and keeps each user's
// delivered cursor: the highest seq of the current epoch written to, or
// acknowledged by, any live session. Advance only records in memory; Run
// writes the changes in one pipeline per interval, so delivery costs no
// Redis write per message.
type Streams struct {
	c        *Conn
	ttl      int64 // seconds
	interval time.Duration
	log      *slog.Logger

	mu    sync.Mutex
	dirty map[int64]pending
	// writing is held while advances taken from dirty are being written, so
	// that FlushUser returns only once the user's advance is in Redis.
	writing sync.Mutex
}

// NewStreams returns Streams on c.
func NewStreams(c *Conn, opts StreamsOptions) *Streams {
	return &Streams{c: c, ttl: int64(cmp.Or(max(opts.HistoryTTL, 0), DefaultHistoryTTL) / time.Second),
		interval: cmp.Or(max(opts.FlushInterval, 0), time.Second), log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		dirty: map[int64]pending{}}
}

// Read returns up to limit stored messages of user from a resume point,
// in one atomic step; from.FromCursor reads after the delivered cursor,
// counting the advances not written yet. A missing stream is created (with
// a new epoch), so that a page names the epoch of the next messages.
func (s *Streams) Read(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error) {
	return s.read(ctx, user, from, limit, false)
}

// ReadStates is Read with the inbox states of the messages (page.States).
func (s *Streams) ReadStates(ctx context.Context, user int64, from app.Resume, limit int) (app.StreamPage, error) {
	return s.read(ctx, user, from, limit, true)
}

func (s *Streams) read(ctx context.Context, user int64, from app.Resume, limit int, states bool) (app.StreamPage, error) {
	args := append(s.readArgs(user, from, limit), boolArg(states))
	res, err := s.c.RunScript(ctx, readScript, s.c.keys.streamKeys(user), args...).Slice()
	if err != nil {
		return app.StreamPage{}, fmt.Errorf("read stream of user %d: %w", user, err)
	}
	return pageOf(user, res, states)
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// readArgs are read.lua's arguments: in cursor mode with the advances not
// written yet (the script takes the one of the stream's epoch).
func (s *Streams) readArgs(user int64, from app.Resume, limit int) []any {
	mode, pos, other := "resume", from.After, app.Position{}
	if from.FromCursor {
		mode = "cursor"
		s.mu.Lock()
		p := s.dirty[user] // zero when nothing is pending
		s.mu.Unlock()
		pos, other = p.newest, p.older
	}
	return []any{mode, pos.Epoch, pos.Seq, limit, Token(), s.ttl, expirySlack(s.ttl), s.c.failover(),
		other.Epoch, other.Seq}
}

// pageHeader is how many values read.lua returns before the messages.
const pageHeader = 10

func pageOf(user int64, res []any, states bool) (app.StreamPage, error) {
	if len(res) < pageHeader {
		return app.StreamPage{}, fmt.Errorf("read stream of user %d: short reply %v", user, res)
	}
	epoch, _ := res[0].(string)
	head, _ := res[1].(int64)
	after, _ := res[2].(int64)
	truncated, _ := res[3].(int64)
	reset, _ := res[4].(int64)
	unseen, _ := res[5].(int64)
	unread, _ := res[6].(int64)
	msgs := res[pageHeader:]
	var flags []any
	if states {
		msgs, flags = msgs[:len(msgs)/2], msgs[len(msgs)/2:]
	}
	page := app.StreamPage{Epoch: epoch, Head: head, After: after, Truncated: truncated == 1, Reset: reset == 1,
		Counts: app.InboxCounts{Unseen: unseen, Unread: unread}, Messages: make([]*app.Envelope, 0, len(msgs))}
	for _, m := range msgs {
		s, _ := m.(string)
		env, ok := ParseEnvelope(user, s)
		if !ok {
			return app.StreamPage{}, fmt.Errorf("read stream of user %d: stored message %.40q... is malformed", user, s)
		}
		page.Messages = append(page.Messages, env)
	}
	if states {
		w := watermarks(res[7:10])
		page.States = make([]app.InboxStates, len(page.Messages))
		for i, env := range page.Messages {
			bits, _ := flags[i].(int64)
			page.States[i] = w.states(env.Seq, bits)
		}
	}
	return page, nil
}

// marks are an inbox's watermarks: every seq up to seen is seen, and so
// on (stream.lua).
type marks struct{ seen, read, archived int64 }

func watermarks(v []any) marks {
	seen, _ := v[0].(int64)
	read, _ := v[1].(int64)
	archived, _ := v[2].(int64)
	return marks{seen, read, archived}
}

// states are the states of seq with flag bits (1 seen, 2 read, 4
// archived) under the watermarks.
func (w marks) states(seq, bits int64) app.InboxStates {
	return app.InboxStates{
		Seen:     seq <= w.seen || bits&1 != 0,
		Read:     seq <= w.read || bits&2 != 0,
		Archived: seq <= w.archived || bits&4 != 0,
	}
}

// Advance raises user's delivered cursor to pos. It never blocks on Redis.
// Advances of different epochs are kept apart (sessions of one user may
// follow the old and the new epoch for a moment after a reset): the flush
// writes both, and Redis keeps the one of the stream's epoch.
func (s *Streams) Advance(user int64, pos app.Position) {
	s.mu.Lock()
	s.dirty[user] = s.dirty[user].raise(pos)
	s.mu.Unlock()
}

// pending is a user's cursor advances not written yet: the newest epoch's
// and, if another epoch advanced too, that one's.
type pending struct {
	newest, older app.Position
}

// raise records pos: it raises the advance of its epoch, or makes pos the
// newest epoch's (a third epoch drops the oldest).
func (p pending) raise(pos app.Position) pending {
	switch {
	case p.newest == (app.Position{}):
		p.newest = pos
	case pos.Epoch == p.newest.Epoch:
		p.newest.Seq = max(p.newest.Seq, pos.Seq)
	case pos.Epoch == p.older.Epoch && p.older != (app.Position{}):
		p.older.Seq = max(p.older.Seq, pos.Seq)
	default:
		p.older, p.newest = p.newest, pos
	}
	return p
}

func (p pending) positions() []app.Position {
	if p.older == (app.Position{}) {
		return []app.Position{p.newest}
	}
	return []app.Position{p.older, p.newest}
}

// Run writes cursor advances every interval until ctx is done, then once
// more.
func (s *Streams) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("final cursor flush failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.log.Warn("cursor flush failed; will retry", "err", err)
			}
		}
	}
}

// Flush writes the recorded advances in one pipeline. On failure they are
// kept for the next flush. An advance of an epoch that is no longer the
// stream's is dropped by the script.
func (s *Streams) Flush(ctx context.Context) error {
	n, err := s.flush(ctx, func(dirty map[int64]pending) map[int64]pending {
		s.dirty = make(map[int64]pending, len(dirty))
		return dirty
	})
	if err != nil {
		return fmt.Errorf("flush %d cursors: %w", n, err)
	}
	return nil
}

// FlushUser writes user's pending cursor advance now, without waiting for
// the next interval; one that a running Flush took is written when
// FlushUser returns too. A failed write is kept for the next flush.
func (s *Streams) FlushUser(ctx context.Context, user int64) error {
	_, err := s.flush(ctx, func(dirty map[int64]pending) map[int64]pending {
		p, ok := dirty[user]
		if !ok {
			return nil
		}
		delete(dirty, user)
		return map[int64]pending{user: p}
	})
	if err != nil {
		return fmt.Errorf("flush the cursor of user %d: %w", user, err)
	}
	return nil
}

// flush writes the advances that take removes from dirty (under s.mu),
// and puts them back when the write fails. It returns how many users'
// advances it took.
func (s *Streams) flush(ctx context.Context, take func(dirty map[int64]pending) map[int64]pending) (int, error) {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	batch := take(s.dirty)
	s.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	type write struct {
		user int64
		pos  app.Position
	}
	writes := make([]write, 0, len(batch))
	for user, p := range batch {
		if p.older != (app.Position{}) {
			writes = append(writes, write{user, p.older})
		}
		writes = append(writes, write{user, p.newest})
	}
	_, err := s.c.RunScripts(ctx, cursorScript, len(writes), func(i int) ([]string, []any) {
		return []string{s.c.keys.Stream(writes[i].user)}, []any{writes[i].pos.Epoch, writes[i].pos.Seq}
	})
	if err != nil {
		s.restore(batch)
	}
	return len(batch), err
}

func (s *Streams) restore(batch map[int64]pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for user, p := range batch {
		if cur, ok := s.dirty[user]; ok { // newer advances, raised over the failed ones
			for _, pos := range cur.positions() {
				p = p.raise(pos)
			}
		}
		s.dirty[user] = p
	}
}

// Describe reads user's stream as it is, with up to describeRecent of its
// newest messages, in one round trip; it creates nothing (Read would).
func (s *Streams) Describe(ctx context.Context, user int64) (app.StreamState, error) {
	p := s.c.rdb.Pipeline()
	fields := p.HMGet(ctx, s.c.keys.Stream(user), StreamEpoch, StreamSeq, StreamCursor)
	stored := p.LLen(ctx, s.c.keys.Messages(user))
	newest := p.LRange(ctx, s.c.keys.Messages(user), -describeRecent, -1)
	if _, err := p.Exec(ctx); err != nil {
		return app.StreamState{}, fmt.Errorf("describe stream of user %d: %w", user, err)
	}
	v := fields.Val()
	text := func(i int) string { s, _ := v[i].(string); return s }
	num := func(i int) int64 { n, _ := strconv.ParseInt(text(i), 10, 64); return n }
	st := app.StreamState{Epoch: text(0), Head: num(1), Delivered: num(2), Stored: stored.Val()}
	for _, m := range newest.Val() {
		if env, ok := ParseEnvelope(user, m); ok {
			st.Recent = append(st.Recent, env)
		}
	}
	return st, nil
}

// describeRecent is how many of the newest messages Describe returns.
const describeRecent = 20
