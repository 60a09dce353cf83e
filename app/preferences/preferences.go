// Package preferences keeps users' notification preferences
// (app.Preferences): stored in MySQL, read on the publish path through a
// cache on every node. The cache is bounded (least recently used entries
// go first) and kept right across nodes by invalidation: a node that
// changes a user's preferences drops its own copy and publishes the user
// id on the Redis channel redis.Keys.Preferences; every node drops its
// copy when the id arrives. Pub/sub loses what is published while a
// node's subscription is down, so a node drops its whole cache each time
// its subscription (re)starts, and an entry lives at most Options.TTL.
//
// Publisher applies the in-app preference to published messages (a muted
// message is not published to the user's stream at all); the device push
// (app/devicepush) applies the push preference and the quiet hours.
package preferences

import (
	"cmp"
	"container/list"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
)

// Defaults of the options left zero.
const (
	DefaultCacheSize = 100_000
	DefaultTTL       = time.Minute
)

// Store keeps the preferences (mysql.Store).
type Store interface {
	// Preferences returns user's preferences, checked; the defaults when
	// none are stored.
	Preferences(ctx context.Context, user int64) (app.Preferences, error)
	// SetPreferences replaces p.UserID's preferences with p (checked).
	SetPreferences(ctx context.Context, p app.Preferences) error
	// PreferencesOf returns the preferences of those of users who have
	// some stored, checked, by user (the others have the defaults).
	PreferencesOf(ctx context.Context, users []int64) (map[int64]app.Preferences, error)
}

// Options configure a Service.
type Options struct {
	CacheSize int              // users whose preferences a node keeps (DefaultCacheSize)
	TTL       time.Duration    // how long a cached entry is trusted at most (DefaultTTL)
	Now       func() time.Time // the cache's clock (time.Now)
	Logger    *slog.Logger
}

// Service reads and changes preferences through its node's cache.
type Service struct {
	store   Store
	rdb     goredis.UniversalClient
	channel string
	opts    Options
	cache   *cache
	ready   chan struct{}
	once    sync.Once
}

// New returns the Service over store, announcing changes on channel
// (redis.Keys.Preferences) through rdb. Run must run for the node to hear
// the other nodes' changes.
func New(store Store, rdb goredis.UniversalClient, channel string, opts Options) *Service {
	opts.CacheSize = app.OrDefault(opts.CacheSize, DefaultCacheSize)
	opts.TTL = app.OrDefault(opts.TTL, DefaultTTL)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Service{store: store, rdb: rdb, channel: channel, opts: opts,
		cache: newCache(opts.CacheSize), ready: make(chan struct{})}
}

// Get returns user's preferences (checked; the defaults when none are
// stored). The result shares its maps and slices with the cache: read it,
// never change it.
func (s *Service) Get(ctx context.Context, user int64) (app.Preferences, error) {
	if user <= 0 {
		return app.Preferences{}, app.Errorf(app.EInvalidArgument, "user_id must be a positive integer")
	}
	now := s.opts.Now()
	if p, ok := s.cache.get(user, now); ok {
		return p, nil
	}
	gen := s.cache.generation(user)
	p, err := s.store.Preferences(ctx, user)
	if err != nil {
		return app.Preferences{}, err
	}
	s.cache.put(user, p, gen, now.Add(s.opts.TTL))
	return p, nil
}

// GetMany returns the preferences of each of users (positive ids), at
// the same index, reading those not cached in one store call
// (PreferencesOf). The results are read-only, as Get's.
func (s *Service) GetMany(ctx context.Context, users []int64) ([]app.Preferences, error) {
	now := s.opts.Now()
	out := make([]app.Preferences, len(users))
	var missed []int // indexes into users
	for i, u := range users {
		if p, ok := s.cache.get(u, now); ok {
			out[i] = p
		} else if u > 0 {
			missed = append(missed, i)
		}
	}
	if len(missed) == 0 {
		return out, nil
	}
	ids := make([]int64, len(missed))
	for k, i := range missed {
		ids[k] = users[i]
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	gen := s.cache.generation(0)
	stored, err := s.store.PreferencesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, i := range missed {
		u := users[i]
		p, ok := stored[u]
		if !ok {
			p = app.DefaultPreferences(u)
		}
		out[i] = p
		s.cache.put(u, p, gen, now.Add(s.opts.TTL))
	}
	return out, nil
}

// Update validates p (see app.Preferences.Check: EInvalidArgument naming
// the bad field), replaces p.UserID's preferences with it and makes every
// node forget its cached copy. It returns p as stored.
func (s *Service) Update(ctx context.Context, p app.Preferences) (app.Preferences, error) {
	if p.UserID <= 0 {
		return app.Preferences{}, app.Errorf(app.EInvalidArgument, "user_id must be a positive integer")
	}
	if err := p.Check(); err != nil {
		return app.Preferences{}, err
	}
	if err := s.store.SetPreferences(ctx, p); err != nil {
		return app.Preferences{}, err
	}
	s.cache.drop(p.UserID)
	if err := s.rdb.Publish(ctx, s.channel, strconv.FormatInt(p.UserID, 10)).Err(); err != nil {
		// Stored: the other nodes apply it once their copies expire.
		s.opts.Logger.WarnContext(ctx, "announcing a preferences change failed; other nodes apply it within preferences.cache_ttl",
			"user_id", p.UserID, "err", err)
	}
	return p, nil
}

// Ready is closed once the node's subscription to changes is confirmed.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Run listens for changes until ctx ends: each user id announced is
// dropped from the cache; each (re)subscription drops the whole cache, as
// announcements made while the subscription was down are lost.
func (s *Service) Run(ctx context.Context) {
	ps := s.rdb.Subscribe(ctx, s.channel)
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // Receive does not watch ctx
	defer func() { stop(); _ = ps.Close() }()
	for ctx.Err() == nil {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.cache.clear()
				s.opts.Logger.WarnContext(ctx, "preferences subscription failed; will resubscribe", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
			continue
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				s.cache.clear()
				s.once.Do(func() { close(s.ready) })
			}
		case *goredis.Message:
			if user, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
				s.cache.drop(user)
			}
		}
	}
}

// cache is a bounded LRU of preferences by user. Each drop bumps a
// generation, so that a read from the store that began before the drop
// does not put back what the drop removed.
type cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *entry, most recently used first
	byID  map[int64]*list.Element
	gen   uint64
}

type entry struct {
	user    int64
	p       app.Preferences
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), byID: map[int64]*list.Element{}}
}

func (c *cache) get(user int64, now time.Time) (app.Preferences, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byID[user]
	if !ok {
		return app.Preferences{}, false
	}
	e := el.Value.(*entry)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.byID, user)
		return app.Preferences{}, false
	}
	c.order.MoveToFront(el)
	return e.p, true
}

// generation is the generation to pass to put after reading user from the
// store.
func (c *cache) generation(int64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *cache) put(user int64, p app.Preferences, gen uint64, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // dropped meanwhile: the read may be older than the change
	}
	if el, ok := c.byID[user]; ok {
		el.Value = &entry{user: user, p: p, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.byID[user] = c.order.PushFront(&entry{user: user, p: p, expires: expires})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*entry).user)
	}
}

func (c *cache) drop(user int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.byID[user]; ok {
		c.order.Remove(el)
		delete(c.byID, user)
	}
}

func (c *cache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.order.Init()
	clear(c.byID)
}

// len is the number of cached users.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
