package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// WithMode returns a copy of c that takes Redis to be in mode m (whose
// client it keeps): sentinel, to check streams for failovers on a server
// that is not behind sentinels.
func (c *Conn) WithMode(m Mode) *Conn {
	d := *c
	d.mode = m
	return &d
}

// RunEach is runScripts: a script of its own per run, in one pipeline.
func (c *Conn) RunEach(ctx context.Context, n int, run func(i int) (*goredis.Script, []string, []any)) ([]*goredis.Cmd, error) {
	return c.runScripts(ctx, n, run)
}
