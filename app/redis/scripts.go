package redis

import (
	_ "embed"
	"math/rand/v2"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua scripts of a user's stream. Each touches the keys of one user
// only (one hash tag), so it runs on a Redis Cluster too.
var (
	//go:embed stream.lua
	streamSrc string
	//go:embed publish.lua
	publishSrc string
	//go:embed read.lua
	readSrc string
	//go:embed cursor.lua
	cursorSrc string

	publishScript = goredis.NewScript(streamSrc + publishSrc)
	readScript    = goredis.NewScript(streamSrc + readSrc)
	cursorScript  = goredis.NewScript(cursorSrc)
)

// newEpoch returns the epoch a stream gets if a script creates it now: 64
// random bits in base 36 (at most 13 characters of [0-9a-z], safe to embed
// in JSON as is).
func newEpoch() string { return strconv.FormatUint(rand.Uint64(), 36) }

// streamKeys are the keys every stream script is given, in the order
// stream.lua expects.
func (k Keys) streamKeys(user int64) []string {
	return []string{k.Stream(user), k.Messages(user)}
}

// expirySlack is how much longer than ttl (seconds) a stream's keys may
// live: their expiry moves once per slack, not on every write. 1% of the
// TTL, between a minute and an hour (1h42m for the default 7 days: an
// hour).
func expirySlack(ttl int64) int64 { return min(max(ttl/100, 60), 3600) }

// idField is the field of the stream hash that holds the seq of a stored
// message id.
func idField(id string) string { return "#" + id }
