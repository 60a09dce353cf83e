package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClaimRedisDBHoldsTheDatabaseUntilRelease(t *testing.T) {
	srv := MustRedisServer(t)
	ctx := context.Background()
	a, err := ClaimRedisDB(ctx, srv.Addr, 3, time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ClaimRedisDB(ctx, srv.Addr, 3, 100*time.Millisecond, time.Minute); err == nil || !strings.Contains(err.Error(), "claimed by") {
		t.Fatalf("second claim of db 3: err = %v, want a 'claimed by' error", err)
	}
	other, err := ClaimRedisDB(ctx, srv.Addr, AnyRedisDB, time.Second, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if other.DB == 3 {
		t.Fatalf("AnyRedisDB got the held db 3")
	}
	a.Client.Set(ctx, "k", "v", 0)
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if n, _ := srv.Client(3).DBSize(ctx).Result(); n != 0 {
		t.Fatalf("released db 3 holds %d keys, want flushed", n)
	}
	b, err := ClaimRedisDB(ctx, srv.Addr, 3, time.Second, time.Minute)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	_ = b.Release()
	_ = other.Release()
	if keys, _ := srv.Client(0).Keys(ctx, "testenv:claim:*").Result(); len(keys) != 0 {
		t.Fatalf("claims left after release: %v", keys)
	}
}

func TestDSNOn(t *testing.T) {
	tests := []struct{ server, want string }{
		{"root:@tcp(127.0.0.1:3306)/", "root:@tcp(127.0.0.1:3306)/gw_x?charset=utf8mb4&parseTime=true&loc=UTC"},
		{"u:p@tcp(db:3307)/other", "u:p@tcp(db:3307)/gw_x?charset=utf8mb4&parseTime=true&loc=UTC"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, DSNOn(tt.server, "gw_x")); diff != "" {
			t.Errorf("DSNOn(%q) (-want +got):\n%s", tt.server, diff)
		}
	}
}
