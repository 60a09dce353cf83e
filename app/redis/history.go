package redis

import (
	"context"
	_ "embed"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed tail.lua
var tailSrc string

var tailScript = goredis.NewScript(tailSrc)

// Tail is a page of a user's stored messages.
type Tail struct {
	Head      int64    // the user's newest seq
	Truncated bool     // messages after the asked seq were trimmed or expired
	Messages  [][]byte // JSON messages with seq > after, oldest first
}

// Tail returns up to limit stored messages of user with seq > after, in one
// atomic read.
func (p *Publisher) Tail(ctx context.Context, user, after int64, limit int) (Tail, error) {
	res, err := tailScript.Run(ctx, p.rdb, []string{p.keys.Seq(user), p.keys.Messages(user)}, after, limit).Slice()
	if err != nil {
		return Tail{}, fmt.Errorf("read history of user %d: %w", user, err)
	}
	if len(res) < 2 {
		return Tail{}, fmt.Errorf("read history of user %d: short reply", user)
	}
	head, _ := res[0].(int64)
	trunc, _ := res[1].(int64)
	t := Tail{Head: head, Truncated: trunc == 1, Messages: make([][]byte, 0, len(res)-2)}
	for _, m := range res[2:] {
		s, _ := m.(string)
		t.Messages = append(t.Messages, []byte(s))
	}
	return t, nil
}

// Seq reads the leading "seq" of a published message ({"seq":N,...}).
func Seq(msg []byte) (int64, bool) {
	const prefix = `{"seq":`
	if len(msg) <= len(prefix) || string(msg[:len(prefix)]) != prefix {
		return 0, false
	}
	var n int64
	i := len(prefix)
	for ; i < len(msg) && msg[i] >= '0' && msg[i] <= '9'; i++ {
		n = n*10 + int64(msg[i]-'0')
	}
	if i == len(prefix) || i == len(msg) || msg[i] != ',' {
		return 0, false
	}
	return n, true
}
