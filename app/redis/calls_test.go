package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app/redis"
)

var (
	countScript = goredis.NewScript(`return redis.call('INCR', KEYS[1])`)
	echoScript  = goredis.NewScript(`return KEYS[1] .. '=' .. ARGV[1]`)
)

// TestRunScriptsOnlyRerunsWhatRedisLacked: in one pipeline of two
// scripts, one of them unknown to Redis, only the unknown one's runs are
// sent again: the other's counter moved once per run.
func TestRunScriptsOnlyRerunsWhatRedisLacked(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	c := redis.New(env.rdb, env.keys)
	if err := env.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := countScript.Load(ctx, env.rdb).Err(); err != nil {
		t.Fatal(err)
	}
	key := env.keys.Namespace() + ":count"
	cmds, err := c.RunEach(ctx, 6, func(i int) (*goredis.Script, []string, []any) {
		if i%2 == 0 {
			return countScript, []string{key}, nil
		}
		return echoScript, []string{"k"}, []any{i}
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		want := any(int64(i/2 + 1))
		if i%2 == 1 {
			want = fmt.Sprintf("k=%d", i)
		}
		if got, err := cmd.Result(); err != nil || got != want {
			t.Errorf("run %d = %v, %v; want %v", i, got, err, want)
		}
	}
	if n, err := env.rdb.Get(ctx, key).Int(); err != nil || n != 3 {
		t.Errorf("counter = %d, %v; want 3 (each counting run once)", n, err)
	}
}

// TestRunScriptConcurrentCallers: runs asked for at once by many
// goroutines, of two scripts Redis lost, each get their own answer, and
// each counting run counted once; a caller whose context ended gets its
// error.
func TestRunScriptConcurrentCallers(t *testing.T) {
	ctx := context.Background()
	env := newBatchEnv(t)
	c := redis.New(env.rdb, env.keys)
	if err := env.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	key := env.keys.Namespace() + ":count"
	const callers = 200
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				if n, err := c.RunScript(ctx, countScript, []string{key}).Int64(); err != nil || n < 1 || n > callers/2 {
					errs <- fmt.Errorf("count run %d = %d, %v", i, n, err)
				}
				return
			}
			want := fmt.Sprintf("k%d=%d", i, i)
			if got, err := c.RunScript(ctx, echoScript, []string{fmt.Sprintf("k%d", i)}, i).Text(); err != nil || got != want {
				errs <- fmt.Errorf("echo run %d = %q, %v; want %q", i, got, err, want)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := env.rdb.Get(ctx, key).Int(); err != nil || n != callers/2 {
		t.Errorf("counter = %d, %v; want %d", n, err, callers/2)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.RunScript(cancelled, countScript, []string{key}).Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v, want context.Canceled", err)
	}
}
