// Package testenv gives each test its own MariaDB database and its own Redis
// logical database on the shared local servers, and removes them afterwards.
// The servers are found through TEST_MYSQL_DSN (default
// "root:@tcp(127.0.0.1:3306)/") and TEST_REDIS_ADDR (default
// "127.0.0.1:6379").
//
// The functions without a testing.TB (ClaimRedisDB, RandomName, DSNOn,
// CreateDatabase, DropDatabase, FreePort, StartProcess, StartGateway) are
// what the Must helpers are built on; tools that share the servers with the
// tests (cmd/loadgen) use them too, so both sides claim, name and run
// things the same way.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
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

// RandomName returns prefix followed by 12 random hex characters.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// DSNOn returns the DSN of database name on the server of serverDSN
// ("user:pass@tcp(host:port)/", without a database), with the options the
// gateway expects (utf8mb4, parseTime, UTC).
func DSNOn(serverDSN, name string) string {
	base := serverDSN[:strings.LastIndex(serverDSN, "/")+1]
	base = strings.TrimSuffix(base, "/") + "/"
	return base + name + "?charset=utf8mb4&parseTime=true&loc=UTC"
}

// CreateDatabase creates the empty database name (utf8mb4) on the server
// of serverDSN.
func CreateDatabase(ctx context.Context, serverDSN, name string) error {
	return execOn(ctx, serverDSN, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", "create database")
}

// DropDatabase drops database name, if it exists, on the server of
// serverDSN.
func DropDatabase(ctx context.Context, serverDSN, name string) error {
	return execOn(ctx, serverDSN, "DROP DATABASE IF EXISTS `"+name+"`", "drop database "+name)
}

func execOn(ctx context.Context, serverDSN, stmt, what string) error {
	db, err := sql.Open("mysql", serverDSN)
	if err != nil {
		return fmt.Errorf("open mysql: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// MustFreePort returns a loopback port that was free a moment ago.
func MustFreePort(tb testing.TB) int {
	tb.Helper()
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	return port
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor calls cond every 20 ms until it returns nil or timeout passed,
// and returns its last error.
func waitFor(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
