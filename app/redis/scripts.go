package redis

import (
	"context"
	_ "embed"
	"math/rand/v2"
	"slices"
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

// runPipelined runs script n times in one pipeline (EVALSHA), args(i)
// giving the keys and arguments of run i. When Redis lost its scripts (a
// restart) it loads script and runs the pipeline once more, so the runs
// must be safe to repeat. It returns each run's command.
func runPipelined(ctx context.Context, rdb goredis.UniversalClient, script *goredis.Script, n int,
	args func(i int) ([]string, []any)) ([]*goredis.Cmd, error) {
	for attempt := 0; ; attempt++ {
		pipe := rdb.Pipeline()
		cmds := make([]*goredis.Cmd, n)
		for i := range n {
			keys, argv := args(i)
			cmds[i] = script.EvalSha(ctx, pipe, keys, argv...)
		}
		_, err := pipe.Exec(ctx)
		if attempt == 0 && slices.ContainsFunc(cmds, func(c *goredis.Cmd) bool { return isNoScript(c.Err()) }) {
			if err := script.Load(ctx, rdb).Err(); err != nil {
				return cmds, err
			}
			continue
		}
		return cmds, err
	}
}
