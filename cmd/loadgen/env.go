package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // DROP DATABASE of the run's database
	goredis "github.com/redis/go-redis/v9"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dsnFor returns the DSN of database name on the server of serverDSN
// ("user:pass@tcp(host:port)/").
func dsnFor(serverDSN, name string) string {
	base := serverDSN[:strings.LastIndex(serverDSN, "/")+1]
	return base + name + "?charset=utf8mb4&parseTime=true&loc=UTC"
}

// dropDatabase removes the run's database.
func dropDatabase(serverDSN, name string) error {
	db, err := sql.Open("mysql", serverDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	return err
}

// redisDB is the Redis logical database of a run. It is claimed with the
// key the tests use (pkg/testenv: "testenv:claim:db:N" in DB 0), so a test
// running meanwhile never picks it, and flushed before and after.
type redisDB struct {
	ctl, db *goredis.Client
	n       int
	owner   string
}

// The claim expires after ttl, so a killed run frees the DB by itself.
func claimRedisDB(ctx context.Context, addr string, n int, wait, ttl time.Duration) (*redisDB, error) {
	if n < 1 || n > 15 {
		return nil, fmt.Errorf("redis db %d: use a DB between 1 and 15 (14 or 15 are meant for this)", n)
	}
	r := &redisDB{ctl: goredis.NewClient(&goredis.Options{Addr: addr, DB: 0}), n: n, owner: "loadgen-" + randomHex(6)}
	deadline := time.Now().Add(wait)
	key := fmt.Sprintf("testenv:claim:db:%d", n)
	for {
		ok, err := r.ctl.SetNX(ctx, key, r.owner, ttl).Result()
		if err != nil {
			r.ctl.Close()
			return nil, fmt.Errorf("redis %s: %w", addr, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			holder, _ := r.ctl.Get(ctx, key).Result()
			r.ctl.Close()
			return nil, fmt.Errorf("redis db %d is claimed by %q (key %s in DB 0: a test, or a run that was killed) for more than %s; pick another with -redis-db", n, holder, key, wait)
		}
		select {
		case <-ctx.Done():
			r.ctl.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	r.db = goredis.NewClient(&goredis.Options{Addr: addr, DB: n})
	if err := r.db.FlushDB(ctx).Err(); err != nil {
		r.release()
		return nil, fmt.Errorf("flush redis db %d: %w", n, err)
	}
	return r, nil
}

func (r *redisDB) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.db.FlushDB(ctx).Err()
}

// release flushes the DB and gives the claim back (only our own).
func (r *redisDB) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if r.db != nil {
		err = r.db.FlushDB(ctx).Err()
		r.db.Close()
	}
	key := fmt.Sprintf("testenv:claim:db:%d", r.n)
	if v, _ := r.ctl.Get(ctx, key).Result(); v == r.owner {
		r.ctl.Del(ctx, key)
	}
	r.ctl.Close()
	return err
}

// cpuSeconds is the CPU time redis-server has used (INFO cpu), or 0.
func (r *redisDB) cpuSeconds() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := r.db.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}
