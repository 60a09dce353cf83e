package testenv

import (
	"context"
	"database/sql"
	"testing"
)

func TestMustDatabaseIsFreshAndUsable(t *testing.T) {
	dsn := MustDatabase(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("fresh database has %d tables", n)
	}
}

func TestMustRedisDBClaimsDistinctDatabases(t *testing.T) {
	a, ca := MustRedisDB(t)
	b, cb := MustRedisDB(t)
	if a == b {
		t.Fatalf("two claims got the same db %d", a)
	}
	ctx := context.Background()
	ca.Set(ctx, "k", "a", 0)
	if v, _ := cb.Get(ctx, "k").Result(); v != "" {
		t.Fatalf("db %d sees db %d's key", b, a)
	}
}

func TestMariaDBKeepsDataAcrossKill(t *testing.T) {
	m := MustMariaDB(t)
	ctx := context.Background()
	if err := CreateDatabase(ctx, m.ServerDSN(), "kept"); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) error {
		db, err := sql.Open("mysql", DSNOn(m.ServerDSN(), "kept"))
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	if err := exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	m.Kill()
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("a killed server answered")
	}
	m.Start()
	db, err := sql.Open("mysql", DSNOn(m.ServerDSN(), "kept"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after restart: %d rows, %v; want 1", n, err)
	}
}
