// Package testenv gives each test its own MariaDB database and its own Redis
// logical database on the shared local servers, and removes them afterwards.
//
// The servers are found through TEST_MYSQL_DSN (default
// "root:@tcp(127.0.0.1:3306)/") and TEST_REDIS_ADDR (default
// "127.0.0.1:6379").
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver for database/sql
	"github.com/redis/go-redis/v9"
)

// MySQLServerDSN is the DSN of the test server, without a database name.
func MySQLServerDSN() string {
	if dsn := os.Getenv("TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "root:@tcp(127.0.0.1:3306)/"
}

// RedisAddr is the address of the test Redis.
func RedisAddr() string {
	if a := os.Getenv("TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// RandomName returns prefix followed by 12 random hex characters.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// MustDatabase creates a fresh, empty database, drops it when the test ends,
// and returns a DSN for it (utf8mb4, parseTime, UTC).
func MustDatabase(tb testing.TB) string {
	tb.Helper()
	name := RandomName("gwtest_")
	admin, err := sql.Open("mysql", MySQLServerDSN())
	if err != nil {
		tb.Fatalf("testenv: open mysql: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		tb.Fatalf("testenv: create database: %v (is MariaDB running on %s?)", err, MySQLServerDSN())
	}
	tb.Cleanup(func() {
		db, err := sql.Open("mysql", MySQLServerDSN())
		if err != nil {
			tb.Errorf("testenv: open mysql: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			tb.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return DSNFor(name)
}

// DSNFor returns the DSN of database name on the test server.
func DSNFor(name string) string {
	base := MySQLServerDSN()
	base = strings.TrimSuffix(base[:strings.LastIndex(base, "/")+1], "/") + "/"
	return base + name + "?charset=utf8mb4&parseTime=true&loc=UTC"
}

// redisDBs is the number of logical databases tests may claim (1..15; 0
// holds the claims).
const redisDBs = 15

// MustRedisDB claims a logical Redis database that no other test (in any
// process) is using, flushes it, and flushes and releases it when the test
// ends. It returns the database number and a client bound to it.
func MustRedisDB(tb testing.TB) (int, *redis.Client) {
	tb.Helper()
	ctx := context.Background()
	ctl := redis.NewClient(&redis.Options{Addr: RedisAddr(), DB: 0})
	owner := RandomName("owner-")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for db := 1; db <= redisDBs; db++ {
			ok, err := ctl.SetNX(ctx, claimKey(db), owner, 10*time.Minute).Result()
			if err != nil {
				ctl.Close()
				tb.Fatalf("testenv: redis at %s: %v", RedisAddr(), err)
			}
			if !ok {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: RedisAddr(), DB: db})
			if err := c.FlushDB(ctx).Err(); err != nil {
				tb.Fatalf("testenv: flush redis db %d: %v", db, err)
			}
			tb.Cleanup(func() {
				_ = c.FlushDB(ctx).Err()
				_ = c.Close()
				// Release only our own claim.
				if v, _ := ctl.Get(ctx, claimKey(db)).Result(); v == owner {
					ctl.Del(ctx, claimKey(db))
				}
				ctl.Close()
			})
			return db, c
		}
		if time.Now().After(deadline) {
			ctl.Close()
			tb.Fatalf("testenv: no free redis database after 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func claimKey(db int) string { return fmt.Sprintf("testenv:claim:db:%d", db) }
