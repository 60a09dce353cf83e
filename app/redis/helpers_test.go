package redis_test

import (
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
)

// eventually polls cond until it holds, for up to 10*time.Second.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testenv.Eventually(tb, 10*time.Second, what, cond)
}
