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
