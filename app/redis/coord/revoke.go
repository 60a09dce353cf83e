package coord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
)

// DefaultDisconnectWait bounds how long Disconnect waits for the nodes'
// answers.
const DefaultDisconnectWait = 2 * time.Second

// Revocations close users' sessions on every node and keep, per user,
// until when new sessions are refused. It implements auth.Revocations.
type Revocations struct {
	c    *redis.Conn
	rdb  goredis.UniversalClient
	keys redis.Keys
	wait time.Duration
}

// NewRevocations returns the revocations of c's deployment; wait bounds
// Disconnect (DefaultDisconnectWait when 0).
func NewRevocations(c *redis.Conn, wait time.Duration) *Revocations {
	return &Revocations{c: c, rdb: c.Client(), keys: c.Keys(), wait: cmp.Or(max(wait, 0), DefaultDisconnectWait)}
}

// RevokedUntil returns until when user's new sessions are refused (zero:
// they are not).
func (r *Revocations) RevokedUntil(ctx context.Context, user int64) (time.Time, error) {
	until, err := revokedUntil(r.rdb.Get(ctx, r.keys.Revoked(user)))
	if err != nil {
		return until, fmt.Errorf("read the revocation of user %d: %w", user, err)
	}
	return until, nil
}

// revokedUntil reads a Revoked key (unix seconds; missing: zero).
func revokedUntil(cmd *goredis.StringCmd) (time.Time, error) {
	sec, err := cmd.Int64()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(sec, 0), nil
}

// Disconnect closes every session of user on every node and, when until
// is in the future, refuses the user's new sessions and token refreshes
// until then (the Revoked key, expiring at until); an until in the past
// lifts a revocation. The nodes holding sessions of the user answer the
// control message with how many they closed, until its wait passed.
func (r *Revocations) Disconnect(ctx context.Context, user int64, until time.Time) (app.Disconnected, error) {
	switch {
	case until.After(time.Now()):
		err := r.rdb.SetArgs(ctx, r.keys.Revoked(user), until.Unix(), goredis.SetArgs{ExpireAt: until}).Err()
		if err != nil {
			return app.Disconnected{}, fmt.Errorf("revoke user %d: %w", user, err)
		}
	case !until.IsZero():
		if _, err := r.Lift(ctx, user); err != nil {
			return app.Disconnected{}, err
		}
	}
	nodes, answers, err := r.c.Ask(ctx, user, redis.Control{Control: redis.ControlDisconnect}, r.wait)
	d := app.Disconnected{Nodes: len(answers), Unanswered: nodes - len(answers)}
	for _, n := range answers {
		d.Closed += n
	}
	if err != nil {
		return d, fmt.Errorf("disconnect user %d: %w", user, err)
	}
	return d, nil
}

// Lift ends user's revocation now: new sessions and refreshes are allowed
// again. It reports whether there was one.
func (r *Revocations) Lift(ctx context.Context, user int64) (bool, error) {
	n, err := r.rdb.Del(ctx, r.keys.Revoked(user)).Result()
	if err != nil {
		return false, fmt.Errorf("lift the revocation of user %d: %w", user, err)
	}
	return n > 0, nil
}
