// Package apptest builds the real reservation service on a private MariaDB
// database and a private Redis database, for tests of every package above
// it. Nothing here is a mock.
package apptest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/reservation"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/testenv"
)

// Env is a real reservation service on a fresh MariaDB database (migrated
// and seeded with the demo houses, including house 3001 "精装修两室一厅" of
// landlord 2001) and a private Redis DB.
type Env struct {
	Service   app.ReservationService
	Impl      *reservation.Service
	Store     *mysql.Store
	DB        *gorm.DB
	DSN       string
	Loc       *time.Location
	Redis     *goredis.Client
	RedisDB   int
	Keys      redis.Keys
	Publisher *redis.Publisher
}

// MustEnv builds an Env and closes it when the test ends.
func MustEnv(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	dsn := testenv.MustDatabase(tb)
	db := MustMySQL(tb, dsn)
	redisDB, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys(testenv.RandomName("test-"), redisDB)
	pub := redis.NewPublisher(redis.New(rdb, keys), redis.PublisherOptions{})
	store := mysql.NewStore(db)
	svc := reservation.New(store, pub, reservation.Options{})
	if _, err := mysql.SeedDemoHouses(ctx, db, time.Now()); err != nil {
		tb.Fatal(err)
	}
	return &Env{Service: svc, Impl: svc, Store: store, DB: db, DSN: dsn, Loc: svc.Location(),
		Redis: rdb, RedisDB: redisDB, Keys: keys, Publisher: pub}
}

// MustMySQL opens and migrates the database of dsn, closing it at the end.
func MustMySQL(tb testing.TB, dsn string) *gorm.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := mysql.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	sqlDB, _ := db.DB()
	tb.Cleanup(func() { sqlDB.Close() })
	if err := mysql.Migrate(ctx, db, nil); err != nil {
		tb.Fatal(err)
	}
	return db
}

// Messages returns every notification stored for user so far, oldest first.
func (e *Env) Messages(tb testing.TB, user int64) []app.Notification {
	tb.Helper()
	raw, err := e.Redis.LRange(context.Background(), e.Keys.Messages(user), 0, -1).Result()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]app.Notification, len(raw))
	for i, s := range raw {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			tb.Fatalf("stored message %q: %v", s, err)
		}
	}
	return out
}

// ReserveTime returns a reserve_time d from now, "YYYY-MM-DD HH:MM:SS" in Loc.
func (e *Env) ReserveTime(d time.Duration) string {
	return time.Now().Add(d).In(e.Loc).Format(app.TimeLayout)
}

// NewAuth returns the real authenticator of mode: in jwt mode it verifies
// HS256 tokens signed with secret; apiKey is the server key (may be empty).
func NewAuth(mode app.AuthMode, secret []byte, apiKey string) *auth.Authenticator {
	opts := auth.Options{Mode: mode, APIKey: apiKey, OperatorUser: "admin"}
	if mode == app.AuthJWT {
		opts.Verify = jwtauth.NewVerifier(secret, nil).Claims
	}
	return auth.New(opts)
}
