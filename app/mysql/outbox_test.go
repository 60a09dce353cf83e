package mysql_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/pkg/testenv"
)

// TestOldestOutboxMessage: none in an empty outbox, else the creation time
// of the oldest row, until it is deleted.
func TestOldestOutboxMessage(t *testing.T) {
	ctx := context.Background()
	db, err := mysql.Open(ctx, testenv.MustDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s, _ := db.DB(); s.Close() }()
	if err := mysql.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	store := mysql.NewStore(db)
	type oldest struct {
		Created time.Time
		OK      bool
	}
	read := func() oldest {
		created, ok, err := store.OldestOutboxMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return oldest{created, ok}
	}
	if diff := cmp.Diff(oldest{}, read()); diff != "" {
		t.Errorf("empty outbox (-want +got):\n%s", diff)
	}
	t1 := time.Date(2026, 5, 1, 10, 0, 0, 123e6, time.UTC)
	msg := func(id string) []app.Message { return []app.Message{{ID: id, UserID: 1001, Payload: []byte(`{}`)}} }
	if err := store.AddMessages(ctx, msg("a"), t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := store.AddMessages(ctx, msg("b"), t1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(oldest{t1, true}, read()); diff != "" {
		t.Errorf("two rows (-want +got):\n%s", diff)
	}
	if err := store.DeleteMessages(ctx, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(oldest{t1.Add(time.Minute), true}, read()); diff != "" {
		t.Errorf("after deleting the oldest (-want +got):\n%s", diff)
	}
}
