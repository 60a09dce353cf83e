package reservation

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
)

// Cleaner deletes published messages from the outbox in batches, off the
// request path: a request hands over the ids it published, and Run deletes
// what gathered once per interval, in one statement. Until then those rows
// stay in the outbox. A request that reads them skips them (this node
// published them); another node's request, or a relay (which leaves rows
// younger than its grace alone), would republish them at worst, which
// delivers nothing twice.
type Cleaner struct {
	store    OutboxStore
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	pending map[string]struct{}
}

// NewCleaner returns a Cleaner deleting through store every interval
// (default 50 ms).
func NewCleaner(store OutboxStore, interval time.Duration, log *slog.Logger) *Cleaner {
	interval = app.OrDefault(interval, 50*time.Millisecond)
	log = cmp.Or(log, slog.New(slog.DiscardHandler))
	return &Cleaner{store: store, interval: interval, log: log, pending: map[string]struct{}{}}
}

// Published records ids as published, to be deleted. It never blocks on
// the database.
func (c *Cleaner) Published(ids []string) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		c.pending[id] = struct{}{}
	}
	c.mu.Unlock()
}

// isPublished reports whether id was published and awaits deletion.
func (c *Cleaner) isPublished(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pending[id]
	return ok
}

// Run deletes every interval until ctx ends, then once more.
func (c *Cleaner) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := c.Flush(fctx); err != nil {
				c.log.Warn("final outbox cleanup failed; the relay republishes those rows (harmless)", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("outbox cleanup failed; will retry", "err", err)
			}
		}
	}
}

// Flush deletes what was published so far. On failure the ids are kept
// for the next flush.
func (c *Cleaner) Flush(ctx context.Context) error {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return nil
	}
	ids := make([]string, 0, len(c.pending))
	for id := range c.pending {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if err := c.store.DeleteMessages(ctx, ids[:n]); err != nil {
			return err
		}
		c.mu.Lock()
		for _, id := range ids[:n] {
			delete(c.pending, id)
		}
		c.mu.Unlock()
		ids = ids[n:]
	}
	return nil
}
