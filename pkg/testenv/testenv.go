// Package testenv gives each test its own MariaDB database and its own Redis
// logical database on the shared local servers, and removes them afterwards.
//
// The servers are found through TEST_MYSQL_DSN (default
// "root:@tcp(127.0.0.1:3306)/") and TEST_REDIS_ADDR (default
// "127.0.0.1:6379").
//
// The functions without a testing.TB (ClaimRedisDB, RandomName, DSNOn,
// CreateDatabase, DropDatabase, FreePort) are what the Must helpers are
// built on; tools that share the servers with the tests (cmd/loadgen) use
// them too, so both sides claim and name things the same way.
//
// BuildGateway builds the gateway binary once per process; StartGateway
// runs `gateway serve` and waits until it is ready, for the system tests
// (MustStartGateway) and the load tool alike; StartProcess runs any other
// child process the same way (its log kept in memory or in a file, killed
// when its parent dies).
package testenv

import (
	"context"
	"os"
	"testing"
	"time"

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

// MustDatabase creates a fresh, empty database, drops it when the test ends,
// and returns a DSN for it (utf8mb4, parseTime, UTC).
func MustDatabase(tb testing.TB) string {
	tb.Helper()
	name := RandomName("gwtest_")
	ctx := context.Background()
	if err := CreateDatabase(ctx, MySQLServerDSN(), name); err != nil {
		tb.Fatalf("testenv: %v (is MariaDB running on %s?)", err, MySQLServerDSN())
	}
	tb.Cleanup(func() {
		if err := DropDatabase(ctx, MySQLServerDSN(), name); err != nil {
			tb.Errorf("testenv: %v", err)
		}
	})
	return DSNFor(name)
}

// DSNFor returns the DSN of database name on the test server.
func DSNFor(name string) string { return DSNOn(MySQLServerDSN(), name) }

// MustRedisDB claims a logical Redis database that no other test (in any
// process) is using, flushes it, and flushes and releases it when the test
// ends. It returns the database number and a client bound to it.
func MustRedisDB(tb testing.TB) (int, *redis.Client) {
	tb.Helper()
	c, err := ClaimRedisDB(context.Background(), RedisAddr(), AnyRedisDB, 2*time.Minute, 10*time.Minute)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() { _ = c.Release() })
	return c.DB, c.Client
}
