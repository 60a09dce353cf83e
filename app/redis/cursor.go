package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed cursor.lua
var cursorSrc string

// Cursors keeps each user's delivered cursor: the highest seq written to, or
// acknowledged by, any live session. Advance only records in memory; Run
// writes the changes to Redis in one pipeline per interval, so delivery
// costs no Redis write per message.
type Cursors struct {
	rdb      goredis.UniversalClient
	keys     Keys
	ttl      time.Duration
	interval time.Duration
	log      *slog.Logger

	mu    sync.Mutex
	dirty map[int64]int64
}

// NewCursors returns Cursors flushed every interval (default 1 s); a cursor
// lives as long as the user's messages (ttl, default 7 days).
func NewCursors(rdb goredis.UniversalClient, keys Keys, interval, ttl time.Duration, log *slog.Logger) *Cursors {
	if interval <= 0 {
		interval = time.Second
	}
	if ttl <= 0 {
		ttl = DefaultHistoryTTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cursors{rdb: rdb, keys: keys, ttl: ttl, interval: interval, log: log, dirty: map[int64]int64{}}
}

// Advance raises user's cursor to seq. It never blocks on Redis.
func (c *Cursors) Advance(user, seq int64) {
	c.mu.Lock()
	if seq > c.dirty[user] {
		c.dirty[user] = seq
	}
	c.mu.Unlock()
}

// Get returns user's cursor, counting advances not yet flushed.
func (c *Cursors) Get(ctx context.Context, user int64) (int64, error) {
	v, err := c.rdb.Get(ctx, c.keys.Cursor(user)).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, fmt.Errorf("read cursor of user %d: %w", user, err)
	}
	stored, _ := strconv.ParseInt(v, 10, 64)
	c.mu.Lock()
	pending := c.dirty[user]
	c.mu.Unlock()
	return max(stored, pending), nil
}

// Run flushes every interval until ctx is done, then once more.
func (c *Cursors) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := c.Flush(fctx); err != nil {
				c.log.Warn("final cursor flush failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := c.Flush(ctx); err != nil {
				c.log.Warn("cursor flush failed; will retry", "err", err)
			}
		}
	}
}

// Flush writes the recorded advances. On failure they are kept for the next
// flush.
func (c *Cursors) Flush(ctx context.Context) error {
	c.mu.Lock()
	batch := c.dirty
	c.dirty = make(map[int64]int64, len(batch))
	c.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	ttl := int64(c.ttl / time.Second)
	pipe := c.rdb.Pipeline()
	for user, seq := range batch {
		// EVALSHA inside a pipeline cannot fall back to EVAL: EVAL itself.
		pipe.Eval(ctx, cursorSrc, []string{c.keys.Cursor(user)}, seq, ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		for user, seq := range batch {
			c.Advance(user, seq)
		}
		return fmt.Errorf("flush %d cursors: %w", len(batch), err)
	}
	return nil
}
