package preferences_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/preferences"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

var _ preferences.Store = (*mysql.Store)(nil)

// node is one node's preferences service: its own Redis client and cache
// over the shared MySQL database.
func node(tb testing.TB, store *mysql.Store, db int, keys redis.Keys, opts preferences.Options) *preferences.Service {
	tb.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: testenv.RedisAddr(), DB: db})
	tb.Cleanup(func() { rdb.Close() })
	s := preferences.New(store, rdb, keys.Preferences(), opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		tb.Fatal("preferences subscription not ready")
	}
	return s
}

// TestUpdateAppliesOnEveryNode: a change on node A replaces the copy node B
// had cached within a second, although B's entries would live an hour.
func TestUpdateAppliesOnEveryNode(t *testing.T) {
	ctx := context.Background()
	store := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	db, _ := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("prefs"), db)
	a := node(t, store, db, keys, preferences.Options{TTL: time.Hour})
	b := node(t, store, db, keys, preferences.Options{TTL: time.Hour})

	if p, err := b.Get(ctx, 7); err != nil || !p.Types["confirmed"].InApp {
		t.Fatalf("B before = %+v, %v; want the defaults", p, err)
	}
	if _, err := a.Update(ctx, app.Preferences{UserID: 7, Types: map[string]app.ChannelPreference{"confirmed": {Push: true}}}); err != nil {
		t.Fatal(err)
	}
	// A reads its own change at once.
	if p, err := a.Get(ctx, 7); err != nil || p.Types["confirmed"].InApp {
		t.Errorf("A after its update = %+v, %v; want confirmed off in the app", p.Types, err)
	}
	start := time.Now()
	testenv.Eventually(t, time.Second, "node B applies node A's change", func() bool {
		p, err := b.Get(ctx, 7)
		return err == nil && !p.Types["confirmed"].InApp && p.Types["confirmed"].Push
	})
	t.Logf("node B applied the change after %v", time.Since(start))

	// GetMany reads through the same cache.
	many, err := b.GetMany(ctx, []int64{7, 8, 7})
	if err != nil || len(many) != 3 || many[0].Types["confirmed"].InApp || !many[1].Types["confirmed"].InApp ||
		many[2].UserID != 7 || many[2].Types["confirmed"].InApp {
		t.Errorf("GetMany = %v, %v; want 7 muted, 8 the defaults, 7 muted", many, err)
	}
	if _, err := a.Update(ctx, app.Preferences{UserID: 8, TimeZone: "Nowhere/Else"}); app.ErrorCode(err) != app.EInvalidArgument {
		t.Errorf("update with a bad zone: %v, want invalid_argument", err)
	}
}

// TestCacheBoundAndTTL: the cache keeps at most CacheSize users and
// trusts an entry for TTL at most (a change made behind its back, straight
// in the store, shows after the TTL).
func TestCacheBoundAndTTL(t *testing.T) {
	ctx := context.Background()
	store := mysql.NewStore(apptest.MustMySQL(t, testenv.MustDatabase(t)))
	db, _ := testenv.MustRedisDB(t)
	keys := redis.NewKeys(testenv.RandomName("prefs"), db)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := node(t, store, db, keys, preferences.Options{CacheSize: 2, TTL: time.Minute, Now: func() time.Time { return now }})
	for _, u := range []int64{1, 2, 3} {
		if _, err := s.Get(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if n := preferences.CacheLen(s); n != 2 {
		t.Errorf("cache holds %d users, want the bound 2", n)
	}
	p := app.Preferences{UserID: 3, TimeZone: "Asia/Tokyo"}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPreferences(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, 3); got.TimeZone != "UTC" {
		t.Fatalf("zone %q before the TTL, want the cached UTC (the test sees the cache)", got.TimeZone)
	}
	now = now.Add(time.Minute)
	if got, _ := s.Get(ctx, 3); got.TimeZone != "Asia/Tokyo" {
		t.Errorf("zone %q after the TTL, want Asia/Tokyo", got.TimeZone)
	}
}
