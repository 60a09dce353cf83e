package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

// StreamsOptions configure Streams.
type StreamsOptions struct {
	HistoryTTL    time.Duration // lifetime of a stream a read creates (default 7 days, as the publisher's)
	FlushInterval time.Duration // how often cursor advances are written (default 1 s)
	Logger        *slog.Logger
	// Failover: check streams for writes lost in a failover, as
	// PublisherOptions.Failover (sentinel and cluster modes).
	Failover bool
}

// Streams reads users' stored streams for sessions and keeps each user's
// delivered cursor: the highest seq of the current epoch written to, or
// acknowledged by, any live session. Advance only records in memory; Run
// writes the changes in one pipeline per interval, so delivery costs no
// Redis write per message.
type Streams struct {
	rdb      goredis.UniversalClient
	keys     Keys
	ttl      int64 // seconds
	interval time.Duration
	log      *slog.Logger
	check    string

	mu    sync.Mutex
	dirty map[int64]app.Position
	// writing is held while advances taken from dirty are being written, so
	// that FlushUser returns only once the user's advance is in Redis.
	writing sync.Mutex
}

// NewStreams returns Streams on rdb.
func NewStreams(rdb goredis.UniversalClient, keys Keys, opts StreamsOptions) *Streams {
	if opts.HistoryTTL <= 0 {
		opts.HistoryTTL = DefaultHistoryTTL
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Streams{rdb: rdb, keys: keys, ttl: int64(opts.HistoryTTL / time.Second), interval: opts.FlushInterval,
		log: opts.Logger, dirty: map[int64]app.Position{}, check: checkFlag(opts.Failover)}
}

// Read returns up to limit stored messages of user after from, in one
// atomic step. from.Epoch "" means the client did not say which epoch its
// seq belongs to. A from.Seq below 0 reads after the user's delivered
// cursor instead, counting advances not yet written. A stream that does not
// exist is created (with a new epoch), so a page always names the epoch
// that the next messages will carry.
func (s *Streams) Read(ctx context.Context, user int64, from app.Position, limit int) (app.StreamPage, error) {
	res, err := readScript.Run(ctx, s.rdb, s.keys.streamKeys(user), s.readArgs(user, from, limit)...).Slice()
	if err != nil {
		return app.StreamPage{}, fmt.Errorf("read stream of user %d: %w", user, err)
	}
	return pageOf(user, res)
}

// Open is Read for a session (or a poll) that starts: in the same round
// trip it reads until when the user's new sessions are refused (the
// Revoked key; zero when they are not), for the caller's auth to decide.
func (s *Streams) Open(ctx context.Context, user int64, from app.Position, limit int) (app.StreamPage, time.Time, error) {
	args := s.readArgs(user, from, limit)
	for attempt := 0; ; attempt++ {
		pipe := s.rdb.Pipeline()
		revoked := pipe.Get(ctx, s.keys.Revoked(user))
		var read *goredis.Cmd
		if attempt == 0 {
			read = readScript.EvalSha(ctx, pipe, s.keys.streamKeys(user), args...)
		} else {
			read = readScript.Eval(ctx, pipe, s.keys.streamKeys(user), args...)
		}
		_, _ = pipe.Exec(ctx)
		if attempt == 0 && isNoScript(read.Err()) {
			continue // Redis lost its scripts (a restart): send the source once
		}
		res, err := read.Slice()
		if err != nil {
			return app.StreamPage{}, time.Time{}, fmt.Errorf("read stream of user %d: %w", user, err)
		}
		page, err := pageOf(user, res)
		if err != nil {
			return page, time.Time{}, err
		}
		var until time.Time
		switch sec, err := revoked.Int64(); {
		case err == nil:
			until = time.Unix(sec, 0)
		case !errors.Is(err, goredis.Nil):
			return page, time.Time{}, fmt.Errorf("read revocation of user %d: %w", user, err)
		}
		return page, until, nil
	}
}

// readArgs are the read script's arguments; a from.Seq below 0 reads after
// the delivered cursor, counting the advance not written yet.
func (s *Streams) readArgs(user int64, from app.Position, limit int) []any {
	mode := "resume"
	if from.Seq < 0 {
		mode = "cursor"
		s.mu.Lock()
		from = s.dirty[user] // zero when nothing is pending
		s.mu.Unlock()
	}
	return []any{mode, from.Epoch, from.Seq, limit, newEpoch(), s.ttl, expirySlack(s.ttl), s.check}
}

// pageOf decodes the read script's reply.
func pageOf(user int64, res []any) (app.StreamPage, error) {
	if len(res) < 5 {
		return app.StreamPage{}, fmt.Errorf("read stream of user %d: short reply %v", user, res)
	}
	epoch, _ := res[0].(string)
	head, _ := res[1].(int64)
	after, _ := res[2].(int64)
	truncated, _ := res[3].(int64)
	reset, _ := res[4].(int64)
	page := app.StreamPage{Epoch: epoch, Head: head, After: after, Truncated: truncated == 1, Reset: reset == 1,
		Messages: make([]*app.Envelope, 0, len(res)-5)}
	for _, m := range res[5:] {
		s, _ := m.(string)
		env, ok := ParseEnvelope(user, s)
		if !ok {
			return app.StreamPage{}, fmt.Errorf("read stream of user %d: stored message %.40q... is malformed", user, s)
		}
		page.Messages = append(page.Messages, env)
	}
	return page, nil
}

// Advance raises user's delivered cursor to pos. It never blocks on Redis.
// An advance in another epoch than the pending one replaces it.
func (s *Streams) Advance(user int64, pos app.Position) {
	s.mu.Lock()
	if cur, ok := s.dirty[user]; !ok || cur.Epoch != pos.Epoch || pos.Seq > cur.Seq {
		s.dirty[user] = pos
	}
	s.mu.Unlock()
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
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	batch := s.dirty
	s.dirty = make(map[int64]app.Position, len(batch))
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := s.flush(ctx, batch)
	if isNoScript(err) {
		if err = cursorScript.Load(ctx, s.rdb).Err(); err == nil {
			err = s.flush(ctx, batch)
		}
	}
	if err != nil {
		s.restore(batch)
		return fmt.Errorf("flush %d cursors: %w", len(batch), err)
	}
	return nil
}

// FlushUser writes user's pending cursor advance now, without waiting for
// the next interval; one that a running Flush took is written when
// FlushUser returns too. A failed write is kept for the next flush.
func (s *Streams) FlushUser(ctx context.Context, user int64) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	pos, ok := s.dirty[user]
	delete(s.dirty, user)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	batch := map[int64]app.Position{user: pos}
	err := s.flush(ctx, batch)
	if isNoScript(err) {
		if err = cursorScript.Load(ctx, s.rdb).Err(); err == nil {
			err = s.flush(ctx, batch)
		}
	}
	if err != nil {
		s.restore(batch)
		return fmt.Errorf("flush the cursor of user %d: %w", user, err)
	}
	return nil
}

// restore puts back advances whose write failed, unless newer ones came.
func (s *Streams) restore(batch map[int64]app.Position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for user, pos := range batch {
		if cur, newer := s.dirty[user]; !newer || (cur.Epoch == pos.Epoch && cur.Seq < pos.Seq) {
			s.dirty[user] = pos
		}
	}
}

func (s *Streams) flush(ctx context.Context, batch map[int64]app.Position) error {
	pipe := s.rdb.Pipeline()
	for user, pos := range batch {
		cursorScript.EvalSha(ctx, pipe, []string{s.keys.Stream(user)}, pos.Epoch, pos.Seq)
	}
	_, err := pipe.Exec(ctx)
	return err
}
