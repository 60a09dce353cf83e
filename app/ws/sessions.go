package ws

import (
	"context"
	"sync"
	"unsafe"

	"github.com/olahol/melody"
)

// sessionConns finds the conn of a melody session. melody's own per-session
// Keys map would cost ~300 bytes a session; an entry here costs ~20. The
// table is sharded so that the writers' lookups (one per message sent) do
// not contend with sessions opening and closing.
type sessionConns struct {
	shards [sessionShards]struct {
		mu sync.RWMutex
		m  map[*melody.Session]*conn
		_  [64]byte // keeps the shards' locks on separate cache lines
	}
}

const sessionShards = 32

func newSessionConns() *sessionConns {
	t := &sessionConns{}
	for i := range t.shards {
		t.shards[i].m = map[*melody.Session]*conn{}
	}
	return t
}

func (t *sessionConns) shard(s *melody.Session) int {
	// Fibonacci hashing of the address: heap objects do not move.
	return int(uint64(uintptr(unsafe.Pointer(s))) * 0x9E3779B97F4A7C15 >> 59)
}

func (t *sessionConns) add(s *melody.Session, c *conn) {
	sh := &t.shards[t.shard(s)]
	sh.mu.Lock()
	sh.m[s] = c
	sh.mu.Unlock()
}

// get returns s's conn, nil once it is forgotten (or before it is added).
func (t *sessionConns) get(s *melody.Session) *conn {
	sh := &t.shards[t.shard(s)]
	sh.mu.RLock()
	c := sh.m[s]
	sh.mu.RUnlock()
	return c
}

func (t *sessionConns) forget(s *melody.Session) {
	sh := &t.shards[t.shard(s)]
	sh.mu.Lock()
	delete(sh.m, s)
	sh.mu.Unlock()
}

// upgrading is what ServeHTTP hands to onConnect through the request's
// context, and only for the upgrade: the conn, and the channel that tells
// ServeHTTP melody has the session.
type upgrading struct {
	c    *conn
	done chan struct{}
}

type upgradingKey struct{}

func withUpgrading(ctx context.Context, u *upgrading) context.Context {
	return context.WithValue(ctx, upgradingKey{}, u)
}

func upgradingOf(ctx context.Context) *upgrading {
	u, _ := ctx.Value(upgradingKey{}).(*upgrading)
	return u
}
