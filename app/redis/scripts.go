package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua scripts of a user's stream, each on one user's keys (one hash
// tag, so that it runs on a Redis Cluster too).
var (
	//go:embed stream.lua
	streamSrc string
	//go:embed publish.lua
	publishSrc string
	//go:embed read.lua
	readSrc string
	//go:embed cursor.lua
	cursorSrc string
	//go:embed mark.lua
	markSrc string
	//go:embed list.lua
	listSrc string

	publishScript = goredis.NewScript(streamSrc + publishSrc)
	readScript    = goredis.NewScript(streamSrc + readSrc)
	cursorScript  = goredis.NewScript(cursorSrc)
	markScript    = goredis.NewScript(streamSrc + markSrc)
	listScript    = goredis.NewScript(streamSrc + listSrc)
)

// RunScripts runs script n times in one pipeline (EVALSHA), args(i) giving
// the keys and arguments of run i. When Redis lost its scripts (NOSCRIPT:
// a restart, SCRIPT FLUSH) it loads script and runs the pipeline once
// more, so runs must be safe to repeat. It returns each run's command and
// the pipeline's error.
func (c *Conn) RunScripts(ctx context.Context, script *goredis.Script, n int,
	args func(i int) ([]string, []any)) ([]*goredis.Cmd, error) {
	return c.runScripts(ctx, n, func(i int) (*goredis.Script, []string, []any) {
		keys, argv := args(i)
		return script, keys, argv
	})
}

// runScripts is RunScripts with a script of its own per run: on NOSCRIPT
// it loads each script that Redis lacked and runs those runs once more.
func (c *Conn) runScripts(ctx context.Context, n int,
	run func(i int) (*goredis.Script, []string, []any)) ([]*goredis.Cmd, error) {
	cmds := make([]*goredis.Cmd, n)
	pipe := c.rdb.Pipeline()
	for i := range n {
		script, keys, argv := run(i)
		cmds[i] = script.EvalSha(ctx, pipe, keys, argv...)
	}
	_, err := pipe.Exec(ctx)
	var again []int // runs whose script Redis lacked
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return cmds, err
	}
	var loaded []*goredis.Script
	pipe = c.rdb.Pipeline()
	for _, i := range again {
		script, keys, argv := run(i)
		if !slices.Contains(loaded, script) {
			if lerr := script.Load(ctx, c.rdb).Err(); lerr != nil {
				lerr = fmt.Errorf("load script: %w", lerr)
				for _, i := range again {
					cmds[i].SetErr(lerr)
				}
				return cmds, lerr
			}
			loaded = append(loaded, script)
		}
		cmds[i] = script.EvalSha(ctx, pipe, keys, argv...)
	}
	_, _ = pipe.Exec(ctx)
	return cmds, firstErr(cmds)
}

// firstErr is the first error of cmds, as a pipeline's Exec reports it.
func firstErr(cmds []*goredis.Cmd) error {
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return err
		}
	}
	return nil
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT"))
}

// Token returns 64 random bits in base 36 (at most 13 characters of
// [0-9a-z], safe to embed in JSON as is): a new stream's epoch, a session
// id's suffix, the id of a control message's answers.
func Token() string { return strconv.FormatUint(rand.Uint64(), 36) }

// streamKeys are the keys of every stream script (stream.lua).
func (k Keys) streamKeys(user int64) []string {
	return []string{k.Stream(user), k.Messages(user)}
}

// expirySlack is how much longer than ttl (seconds) a stream's keys may
// live, so that their expiry moves once per slack, not on every write: 1%
// of the TTL, between a minute and an hour.
func expirySlack(ttl int64) int64 { return min(max(ttl/100, 60), 3600) }

// idField is the stream hash's field of a stored message id.
func idField(id string) string { return "#" + id }
