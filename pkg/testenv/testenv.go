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
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// Eventually polls cond until it holds, failing tb (naming what) when it
// does not within the given time: tests wait for a condition, never a
// fixed sleep.
func Eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	err := waitFor(within, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
	if err != nil {
		tb.Fatalf("%s: not within %s", what, within)
	}
}

var errNotYet = errors.New("not yet")

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

// MariaDB is a throwaway MariaDB server (mariadbd) on a free loopback port
// with its own data directory, for tests that stop and restart the
// database under a running gateway. It runs without grant tables (any user
// gets in: a test server only) and is killed, and its directory removed,
// when the test ends. Its data survives Kill and Start.
type MariaDB struct {
	Addr string // 127.0.0.1:port
	Port int
	Dir  string // data directory, socket, error log
	tb   testing.TB
	proc *Process
}

// MustMariaDB initialises a data directory (mariadb-install-db), starts
// mariadbd on it and waits until it answers. It needs mariadbd and
// mariadb-install-db (Debian's mariadb-server) on PATH or in /usr/sbin.
func MustMariaDB(tb testing.TB) *MariaDB {
	tb.Helper()
	dir := tb.TempDir()
	m := &MariaDB{Dir: dir, tb: tb, Port: MustFreePort(tb)}
	m.Addr = "127.0.0.1:" + strconv.Itoa(m.Port)
	install := exec.Command(binaryPath(tb, "mariadb-install-db"), "--no-defaults", "--datadir="+filepath.Join(dir, "data"),
		"--user="+currentUser(), "--auth-root-authentication-method=normal", "--skip-test-db", "--innodb-log-file-size=8M")
	if out, err := install.CombinedOutput(); err != nil {
		tb.Fatalf("testenv: mariadb-install-db: %v\n%s", err, out)
	}
	tb.Cleanup(m.Kill)
	m.Start()
	return m
}

// ServerDSN is the DSN of the server without a database, for CreateDatabase
// and DSNOn.
func (m *MariaDB) ServerDSN() string { return "root:@tcp(" + m.Addr + ")/" }

// Start starts mariadbd (again, after Kill) and waits up to 60 s until it
// answers a query.
func (m *MariaDB) Start() {
	m.tb.Helper()
	m.proc = mustStart(m.tb, ProcessOptions{Name: "mariadbd", Path: binaryPath(m.tb, "mariadbd"), Args: []string{
		"--no-defaults", "--user=" + currentUser(), "--datadir=" + filepath.Join(m.Dir, "data"), "--port=" + strconv.Itoa(m.Port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(m.Dir, "mysqld.sock"), "--pid-file=" + filepath.Join(m.Dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(m.Dir, "error.log"), "--skip-grant-tables", "--skip-log-bin",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M", "--max-connections=500",
		// Commits reach the OS at once: they survive the kill of mariadbd,
		// which is what these tests do (not a machine crash).
		"--innodb-flush-log-at-trx-commit=2"}})
	db, err := sql.Open("mysql", m.ServerDSN()+"?timeout=1s")
	if err != nil {
		m.tb.Fatal(err)
	}
	defer db.Close()
	err = waitFor(60*time.Second, func() error {
		if m.proc.HasExited() {
			log, _ := os.ReadFile(filepath.Join(m.Dir, "error.log"))
			m.tb.Fatalf("testenv: mariadbd exited at start; log:\n%s", log)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return db.PingContext(ctx)
	})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(m.Dir, "error.log"))
		m.tb.Fatalf("testenv: mariadbd on %s did not answer within 60s (%v); log:\n%s", m.Addr, err, log)
	}
}

// Kill stops the server at once (SIGKILL), as a crash would, and waits for
// it to exit. Its open connections are reset; new ones are refused.
func (m *MariaDB) Kill() {
	if m.proc != nil {
		m.proc.kill()
		m.proc = nil
	}
}

// binaryPath finds name on PATH or in /usr/sbin (where Debian puts mariadbd).
func binaryPath(tb testing.TB, name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	tb.Fatalf("testenv: %s not found on PATH or in /usr/sbin (install mariadb-server)", name)
	return ""
}

// currentUser is the user mariadbd runs as: itself (root must say so).
func currentUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return strconv.Itoa(os.Geteuid())
}
