package testenv

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

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
