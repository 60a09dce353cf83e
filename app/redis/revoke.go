package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultDisconnectWait bounds how long Disconnect waits for the nodes'
// answers.
const DefaultDisconnectWait = 2 * time.Second

// Revocations close users' sessions on every node and keep, per user,
// until when new sessions are refused. It implements auth.Revocations.
type Revocations struct {
	rdb   goredis.UniversalClient
	keys  Keys
	asker *Asker
	wait  time.Duration
}

// NewRevocations returns the revocations of the deployment a asks on; wait
// bounds Disconnect (DefaultDisconnectWait when 0).
func NewRevocations(a *Asker, wait time.Duration) *Revocations {
	if wait <= 0 {
		wait = DefaultDisconnectWait
	}
	return &Revocations{rdb: a.rdb, keys: a.keys, asker: a, wait: wait}
}

// RevokedUntil returns until when user's new sessions are refused (zero:
// they are not).
func (r *Revocations) RevokedUntil(ctx context.Context, user int64) (time.Time, error) {
	v, err := r.rdb.Get(ctx, r.keys.Revoked(user)).Result()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read revocation of user %d: %w", user, err)
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("revocation of user %d: %q is not unix seconds", user, v)
	}
	return time.Unix(sec, 0), nil
}

// Disconnected is what Disconnect did.
type Disconnected struct {
	Closed     int // sessions closed, summed over the nodes that answered
	Nodes      int // nodes that answered
	Unanswered int // nodes that received the message but did not answer in time
}

// Disconnect closes every session of user on every node and, when until
// is in the future, refuses the user's new sessions and token refreshes
// until then (the Revoked key, expiring at until); an until in the past
// lifts a revocation (the key is deleted). It publishes a control
// message on the user's channel: the nodes that receive it (those holding
// sessions of the user, PUBLISH says how many) close them and push their
// count on a Replies list, which Disconnect reads until every node
// answered or its wait passed.
func (r *Revocations) Disconnect(ctx context.Context, user int64, until time.Time) (Disconnected, error) {
	switch {
	case until.After(time.Now()):
		err := r.rdb.SetArgs(ctx, r.keys.Revoked(user), until.Unix(), goredis.SetArgs{ExpireAt: until}).Err()
		if err != nil {
			return Disconnected{}, fmt.Errorf("revoke user %d: %w", user, err)
		}
	case !until.IsZero():
		if _, err := r.Lift(ctx, user); err != nil {
			return Disconnected{}, err
		}
	}
	nodes, answers, err := r.asker.ask(ctx, user, controlMessage{Control: controlDisconnect}, r.wait)
	d := Disconnected{Nodes: len(answers), Unanswered: nodes - len(answers)}
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
