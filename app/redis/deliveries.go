package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/houseview/gateway/app"
)

// DefaultFlushWait bounds how long Deliveries waits for the nodes holding
// a user's sessions to write the user's pending cursor.
const DefaultFlushWait = 2 * time.Second

// Deliveries tells whether a published message reached a live session of
// its user, from the user's delivered cursor (Streams).
type Deliveries struct {
	c    *Conn
	wait time.Duration
}

// NewDeliveries returns the deliveries of c's deployment; wait bounds the
// nodes' answers to a flush (DefaultFlushWait when 0).
func NewDeliveries(c *Conn, wait time.Duration) *Deliveries {
	return &Deliveries{c: c, wait: cmp.Or(max(wait, 0), DefaultFlushWait)}
}

// Delivered reports whether message id, published to user at pos, was
// written to or acknowledged by a live session: the delivered cursor
// reached the id's seq while the stream stores it, else pos.Seq in
// pos.Epoch (the id was trimmed; a stream gone or of another epoch never
// had it delivered). Nodes write their cursors once per flush interval:
// when the stored one falls short, Delivered has the nodes holding the
// user flush (ControlFlush), waits for their answers (at most its wait)
// and reads again. An advance left on a node that no longer holds the user
// counts after that node's next flush.
func (d *Deliveries) Delivered(ctx context.Context, user int64, id string, pos app.Position) (bool, error) {
	ok, err := d.stored(ctx, user, id, pos)
	if ok || err != nil {
		return ok, err
	}
	nodes, _, err := d.c.Ask(ctx, user, Control{Control: ControlFlush}, d.wait)
	if err != nil {
		return false, fmt.Errorf("ask for the cursor of user %d: %w", user, err)
	}
	if nodes == 0 {
		return false, nil
	}
	return d.stored(ctx, user, id, pos)
}

// stored reads the delivered state from the stream hash, without creating
// the stream.
func (d *Deliveries) stored(ctx context.Context, user int64, id string, pos app.Position) (bool, error) {
	h, err := d.c.rdb.HMGet(ctx, d.c.keys.Stream(user), StreamEpoch, StreamCursor, idField(id)).Result()
	if err != nil {
		return false, fmt.Errorf("read the stream of user %d: %w", user, err)
	}
	epoch, _ := h[0].(string)
	if epoch == "" {
		return false, nil
	}
	cursor, err := hashInt(h[1])
	if err != nil {
		return false, fmt.Errorf("stream of user %d: cursor: %w", user, err)
	}
	if h[2] != nil {
		seq, err := hashInt(h[2])
		if err != nil {
			return false, fmt.Errorf("stream of user %d: seq of %s: %w", user, id, err)
		}
		return cursor >= seq, nil
	}
	return epoch == pos.Epoch && cursor >= pos.Seq, nil
}

func hashInt(v any) (int64, error) {
	if v == nil {
		return 0, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, errors.New("not a string")
	}
	return strconv.ParseInt(s, 10, 64)
}
