package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
)

// AnyRedisDB asks ClaimRedisDB for the first free logical database.
const AnyRedisDB = 0

// redisDBs is the number of logical databases that may be claimed (1..15;
// 0 holds the claims).
const redisDBs = 15

// claimKey is the key in DB 0 whose owner holds logical database db.
func claimKey(db int) string { return fmt.Sprintf("testenv:claim:db:%d", db) }

// RedisClaim is a logical Redis database held through its claim key
// ("testenv:claim:db:N" in DB 0), so no test or tool in any process uses
// it meanwhile. The claim expires by itself after its ttl, so a killed
// holder frees the database.
type RedisClaim struct {
	DB     int
	Addr   string
	Client *redis.Client // bound to DB

	ctl   *redis.Client // DB 0, where the claims live
	owner string
}

// ClaimRedisDB claims logical database db (1..15, or AnyRedisDB for the
// first free one) on the Redis at addr, waiting up to wait for it to be
// free, and flushes it. The claim lasts ttl at most; Release flushes the
// database and gives the claim back.
func ClaimRedisDB(ctx context.Context, addr string, db int, wait, ttl time.Duration) (*RedisClaim, error) {
	if db < 0 || db > redisDBs {
		return nil, fmt.Errorf("redis db %d: use 1 to %d, or %d for any free one", db, redisDBs, AnyRedisDB)
	}
	candidates := []int{db}
	if db == AnyRedisDB {
		candidates = candidates[:0]
		for n := 1; n <= redisDBs; n++ {
			candidates = append(candidates, n)
		}
	}
	ctl := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	owner := RandomName(fmt.Sprintf("%s-%d-", filepath.Base(os.Args[0]), os.Getpid()))
	deadline := time.Now().Add(wait)
	for {
		for _, n := range candidates {
			ok, err := ctl.SetNX(ctx, claimKey(n), owner, ttl).Result()
			if err != nil {
				ctl.Close()
				return nil, fmt.Errorf("redis at %s: %w", addr, err)
			}
			if !ok {
				continue
			}
			c := &RedisClaim{DB: n, Addr: addr, Client: redis.NewClient(&redis.Options{Addr: addr, DB: n}), ctl: ctl, owner: owner}
			if err := c.Client.FlushDBAsync(ctx).Err(); err != nil {
				_ = c.Release()
				return nil, fmt.Errorf("flush redis db %d: %w", n, err)
			}
			return c, nil
		}
		if time.Now().After(deadline) {
			defer ctl.Close()
			if db == AnyRedisDB {
				return nil, fmt.Errorf("no free redis database on %s after %s", addr, wait)
			}
			holder, _ := ctl.Get(ctx, claimKey(db)).Result()
			return nil, fmt.Errorf("redis db %d on %s is claimed by %q (key %s in DB 0: a test, or a holder that was killed) for more than %s",
				db, addr, holder, claimKey(db), wait)
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			ctl.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// PrivateRedisDB is database 0 of a private server that nobody else uses
// (a throwaway Redis Cluster node, where SELECT and claims do not work):
// nothing is claimed; Release flushes it.
func PrivateRedisDB(addr string) *RedisClaim {
	return &RedisClaim{DB: 0, Addr: addr, Client: redis.NewClient(&redis.Options{Addr: addr})}
}

// Flush empties the claimed database.
func (c *RedisClaim) Flush(ctx context.Context) error { return c.Client.FlushDB(ctx).Err() }

// Release flushes the database, closes the client and gives the claim
// back (only if it is still this holder's). The flush is FLUSHDB ASYNC:
// the keys are gone at once and Redis frees their memory in the
// background, so a database of millions of entries (a soak's) does not
// outlast the client's read timeout.
func (c *RedisClaim) Release() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Client.FlushDBAsync(ctx).Err()
	err = errors.Join(err, c.Client.Close())
	if c.ctl == nil { // PrivateRedisDB: nothing was claimed
		return err
	}
	if v, _ := c.ctl.Get(ctx, claimKey(c.DB)).Result(); v == c.owner {
		c.ctl.Del(ctx, claimKey(c.DB))
	}
	c.ctl.Close()
	return err
}
