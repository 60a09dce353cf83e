package reservation

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/houseview/gateway/app"
)

// OutboxStore reads and clears the messages that await publishing. Reads
// return messages oldest first (outbox order): the order each recipient
// must get them in.
type OutboxStore interface {
	// PendingMessagesFor returns up to limit messages to the given users.
	PendingMessagesFor(ctx context.Context, users []int64, limit int) ([]app.Message, error)
	// PendingMessages returns up to limit messages written at or before
	// before, except those to the users in except.
	PendingMessages(ctx context.Context, before time.Time, except []int64, limit int) ([]app.Message, error)
	DeleteMessages(ctx context.Context, ids []string) error
}

const (
	// deliverTimeout bounds one delivery attempt after the request is done.
	deliverTimeout = 5 * time.Second
	// deliverLimit bounds the outbox messages a request publishes after its
	// commit; the relay publishes the rest.
	deliverLimit = 100
	// maxFailedRecipients ends a relay flush once this many recipients
	// failed: their messages are left out of its later passes.
	maxFailedRecipients = 1000
)

// deliver publishes msgs after their transaction committed: for each of
// their recipients, every message the outbox holds for them, oldest first,
// so that older leftovers (a publish that failed, a node that died after
// its commit) go out before the new ones. Published messages leave the
// outbox; the rest wait for the Relay. The caller's request has succeeded
// either way.
func (s *Service) deliver(ctx context.Context, msgs []app.Message) {
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliverTimeout)
	defer cancel()
	users := make([]int64, 0, len(msgs))
	for _, m := range msgs {
		if !slices.Contains(users, m.UserID) {
			users = append(users, m.UserID)
		}
	}
	pending, err := s.store.PendingMessagesFor(ctx, users, deliverLimit)
	if err != nil {
		s.opts.Logger.WarnContext(ctx, "reading the outbox failed; the outbox relay will publish", "err", err)
		return
	}
	if s.opts.Cleaner != nil {
		// Rows this node published and has yet to delete went out already.
		pending = slices.DeleteFunc(pending, func(m app.Message) bool { return s.opts.Cleaner.isPublished(m.ID) })
	}
	if _, err := publishOutbox(ctx, s.pub, pending, map[int64]bool{}, s.published, s.opts.Logger); err != nil {
		// Harmless: a republish of a published id delivers nothing.
		s.opts.Logger.WarnContext(ctx, "outbox cleanup failed", "err", err)
	}
}

// published takes published messages out of the outbox: through the
// Cleaner in batches, or at once without one.
func (s *Service) published(ctx context.Context, ids []string) error {
	if s.opts.Cleaner != nil {
		s.opts.Cleaner.Published(ids)
		return nil
	}
	return s.store.DeleteMessages(ctx, ids)
}

// publishOutbox publishes msgs, given in outbox order, hands the ids of the
// published ones to done (which takes them out of the outbox) and returns
// how many it published. Each recipient's messages go out in order: after
// its first failure, its later messages stay in the outbox, so that none
// gets a lower seq than an older one. Recipients in failed are skipped;
// those that fail are added.
func publishOutbox(ctx context.Context, pub Publisher, msgs []app.Message, failed map[int64]bool,
	done func(context.Context, []string) error, log *slog.Logger) (int, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if failed[m.UserID] {
			continue
		}
		if _, err := pub.Publish(ctx, m); err != nil {
			log.WarnContext(ctx, "publish failed; this recipient's messages wait for the outbox relay",
				"msg_id", m.ID, "user_id", m.UserID, "err", err)
			failed[m.UserID] = true
			continue
		}
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := done(ctx, ids); err != nil {
		return len(ids), fmt.Errorf("delete %d published outbox messages: %w", len(ids), err)
	}
	return len(ids), nil
}

// Relay publishes what the outbox still holds: messages whose request died
// between commit and publish, or whose publish failed (Redis down). Every
// node may run one; the publisher's per-message idempotency makes their
// races harmless. Like a request, it publishes each recipient's messages
// in order and leaves a recipient's messages after its first failure.
type Relay struct {
	Store     OutboxStore
	Publisher Publisher
	Interval  time.Duration // how often to look (default 1 s)
	Grace     time.Duration // leave messages this young to the request that wrote them (default 2 s)
	Batch     int           // messages per pass (default 500)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) {
	every(ctx, app.OrDefault(r.Interval, time.Second), func() {
		if _, err := r.Flush(ctx); err != nil && ctx.Err() == nil {
			cmp.Or(r.Logger, slog.New(slog.DiscardHandler)).Warn("outbox relay pass failed", "err", err)
		}
	})
}

// every runs f every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// Flush makes passes until no message older than the grace period is left,
// a pass publishes nothing (Redis is most likely down) or too many
// recipients failed, and returns how many it published. A recipient that
// failed is left out of the later passes.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	batch, grace, now := app.OrDefault(r.Batch, 500), r.Grace, r.Now
	if grace == 0 {
		grace = 2 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	failed := map[int64]bool{}
	total := 0
	for {
		msgs, err := r.Store.PendingMessages(ctx, now().Add(-grace), slices.Sorted(maps.Keys(failed)), batch)
		if err != nil {
			return total, err
		}
		n, err := r.publish(ctx, msgs, failed)
		total += n
		if err != nil || len(msgs) < batch || n == 0 || len(failed) >= maxFailedRecipients {
			return total, err
		}
	}
}

// publish makes one pass over msgs.
func (r *Relay) publish(ctx context.Context, msgs []app.Message, failed map[int64]bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	return publishOutbox(ctx, r.Publisher, msgs, failed, r.Store.DeleteMessages, cmp.Or(r.Logger, slog.New(slog.DiscardHandler)))
}

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
	every(ctx, c.interval, func() {
		if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("outbox cleanup failed; will retry", "err", err)
		}
	})
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.Flush(fctx); err != nil {
		c.log.Warn("final outbox cleanup failed; the relay republishes those rows (harmless)", "err", err)
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
