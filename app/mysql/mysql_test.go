package mysql_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/testenv"
)

func TestOpenCreatesMigratesAndSeedsOnce(t *testing.T) {
	ctx := context.Background()
	name := testenv.RandomName("gwtest_")
	dsn := testenv.DSNFor(name)
	t.Cleanup(func() {
		db, err := mysql.Open(ctx, testenv.DSNFor("mysql"))
		if err == nil {
			db.Exec("DROP DATABASE IF EXISTS `" + name + "`")
			if s, err := db.DB(); err == nil {
				s.Close()
			}
		}
	})

	// Three nodes start at once against a database that does not exist.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	seeded := make([]int, 3)
	for i := range 3 {
		wg.Go(func() {
			db, err := mysql.Open(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer func() { s, _ := db.DB(); s.Close() }()
			if errs[i] = mysql.Migrate(ctx, db, nil); errs[i] != nil {
				return
			}
			seeded[i], errs[i] = mysql.SeedDemoHouses(ctx, db, time.Now())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	if total := seeded[0] + seeded[1] + seeded[2]; total != mysql.DemoHouseCount {
		t.Errorf("seeded %d houses in all, want %d", total, mysql.DemoHouseCount)
	}

	db, err := mysql.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s, _ := db.DB(); s.Close() }()
	var title string
	var landlord int64
	if err := db.Raw("SELECT title, landlord_id FROM houses WHERE id = 3001").Row().Scan(&title, &landlord); err != nil {
		t.Fatal(err)
	}
	if title != "精装修两室一厅" || landlord != 2001 {
		t.Errorf("house 3001 = %q of %d", title, landlord)
	}
	var cities int
	db.Raw("SELECT COUNT(DISTINCT city) FROM houses").Row().Scan(&cities)
	if cities < 5 {
		t.Errorf("demo houses span %d cities", cities)
	}
}

// TestQueriesUseIndexes checks the plans of the service's reservation and
// outbox queries: none scans the whole reservations or outbox table.
func TestQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db, err := mysql.Open(ctx, testenv.MustDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s, _ := db.DB(); s.Close() }()
	if err := mysql.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	// Enough rows that the optimizer prefers an index where one fits.
	var values []string
	for i := range 2000 {
		values = append(values, fmt.Sprintf("(%d, %d, %d, 't', 'n', NOW() + INTERVAL %d HOUR, '%s', NOW() - INTERVAL %d DAY, NOW())",
			3001+i%300, 1+i%100, 2001+i%20, i, []string{"pending", "confirmed", "rejected", "cancelled"}[i%4], i%90))
	}
	if err := db.Exec("INSERT INTO reservations (house_id, tenant_id, landlord_id, house_title, tenant_name, reserve_time, status, created_at, updated_at) VALUES " + strings.Join(values, ",")).Error; err != nil {
		t.Fatal(err)
	}
	values = values[:0]
	for i := range 2000 {
		values = append(values, fmt.Sprintf("('%032d', %d, '{}', NOW())", i, 1+i%100))
	}
	if err := db.Exec("INSERT INTO notification_outbox (msg_id, user_id, payload, created_at) VALUES " + strings.Join(values, ",")).Error; err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{
		"list by tenant":       "SELECT * FROM reservations WHERE tenant_id = 1 AND status = 'pending' ORDER BY id DESC LIMIT 20",
		"list by landlord":     "SELECT * FROM reservations WHERE landlord_id = 1 ORDER BY id DESC LIMIT 20",
		"popularity":           "SELECT house_id, COUNT(*) FROM reservations WHERE created_at >= NOW() - INTERVAL 30 DAY GROUP BY house_id",
		"taste":                "SELECT h.* FROM reservations r JOIN houses h ON h.id = r.house_id WHERE r.tenant_id = 1 ORDER BY r.id DESC LIMIT 50",
		"duplicate check":      "SELECT id FROM reservations WHERE tenant_id = 1 AND house_id = 2 AND reserve_time = '2026-01-01 00:00:00' AND active_slot = 1",
		"outbox of recipients": "SELECT * FROM notification_outbox WHERE user_id IN (1, 2) ORDER BY id LIMIT 100",
		"oldest outbox row":    "SELECT MIN(created_at) FROM notification_outbox",
	}
	checked := map[string]bool{"reservations": true, "r": true, "notification_outbox": true}
	for name, q := range queries {
		rows, err := db.Raw("EXPLAIN " + q).Rows()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			plan := map[string]string{}
			for i, c := range cols {
				if b, ok := vals[i].([]byte); ok {
					plan[c] = string(b)
				}
			}
			// "index" reads a whole index, often the primary key in id order.
			if checked[plan["table"]] && (plan["type"] == "ALL" || plan["type"] == "index") {
				t.Errorf("%s: full scan of %s: %v", name, plan["table"], plan)
			}
		}
		rows.Close()
	}
}

// TestHouseReadsAreCached: a house read once comes from memory for a
// while (bookings read one each), as a copy the caller may change.
func TestHouseReadsAreCached(t *testing.T) {
	db := apptest.MustMySQL(t, testenv.MustDatabase(t))
	ctx := context.Background()
	if _, err := mysql.SeedDemoHouses(ctx, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	store := mysql.NewStore(db)
	first, err := store.House(ctx, 3001)
	if err != nil {
		t.Fatal(err)
	}
	first.Tags = append(first.Tags[:0], "changed by the caller")
	if err := db.Exec("DELETE FROM houses WHERE id = 3001").Error; err != nil {
		t.Fatal(err)
	}
	again, err := store.House(ctx, 3001)
	if err != nil || again.Title != "精装修两室一厅" || slices.Contains(again.Tags, "changed by the caller") {
		t.Fatalf("second read %+v, %v; want the cached house, untouched", again, err)
	}
	if _, err := store.House(ctx, 3002); app.ErrorCode(err) != app.ENotFound && err != nil {
		t.Fatal(err)
	}
}
