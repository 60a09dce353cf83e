package redis

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
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
	n, i, ok := leadingInt(msg, `{"seq":`, 0)
	if !ok || msg[i] != ',' {
		return 0, false
	}
	return n, true
}

// Timestamp reads the "ts" that follows the seq of a published message
// ({"seq":N,"ts":MS,...}): the Redis server's time of the publish, in unix
// milliseconds.
func Timestamp(msg []byte) (int64, bool) {
	_, i, ok := leadingInt(msg, `{"seq":`, 0)
	if !ok {
		return 0, false
	}
	ms, _, ok := leadingInt(msg, `"ts":`, i+1)
	return ms, ok
}

// MessageType returns the "type" of a message payload as a metric label:
// "1" to "6" (app.MessageType), or "unknown". It reads the first "type"
// key, which in a notification comes before any detail.
func MessageType(payload []byte) string {
	i := bytes.Index(payload, []byte(`"type":`))
	if i < 0 {
		return "unknown"
	}
	n, _, ok := leadingInt(payload, `"type":`, i)
	if !ok || n < int64(app.MsgReservationCreated) || n > int64(app.MsgGenericPush) {
		return "unknown"
	}
	return strconv.FormatInt(n, 10)
}

// leadingInt reads prefix at msg[from:] and the non-negative integer after
// it, which must be followed by ',' or '}'. It returns the integer and the
// index of that delimiter.
func leadingInt(msg []byte, prefix string, from int) (int64, int, bool) {
	if from < 0 || len(msg)-from <= len(prefix) || string(msg[from:from+len(prefix)]) != prefix {
		return 0, 0, false
	}
	var n int64
	start := from + len(prefix)
	i := start
	for ; i < len(msg) && msg[i] >= '0' && msg[i] <= '9' && i-start < 18; i++ {
		n = n*10 + int64(msg[i]-'0')
	}
	if i == start || i == len(msg) || (msg[i] != ',' && msg[i] != '}') {
		return 0, 0, false
	}
	return n, i, true
}
