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
	rdb  goredis.UniversalClient
	keys Keys
	wait time.Duration
}

// NewRevocations returns the revocations of a deployment; wait bounds
// Disconnect (DefaultDisconnectWait when 0).
func NewRevocations(rdb goredis.UniversalClient, keys Keys, wait time.Duration) *Revocations {
	if wait <= 0 {
		wait = DefaultDisconnectWait
	}
	return &Revocations{rdb: rdb, keys: keys, wait: wait}
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
// until then (the Revoked key, expiring at until). It publishes a control
// message on the user's channel: the nodes that receive it (those holding
// sessions of the user, PUBLISH says how many) close them and push their
// count on a Replies list, which Disconnect reads until every node
// answered or its wait passed.
func (r *Revocations) Disconnect(ctx context.Context, user int64, until time.Time) (Disconnected, error) {
	if until.After(time.Now()) {
		err := r.rdb.SetArgs(ctx, r.keys.Revoked(user), until.Unix(), goredis.SetArgs{ExpireAt: until}).Err()
		if err != nil {
			return Disconnected{}, fmt.Errorf("revoke user %d: %w", user, err)
		}
	}
	id := newEpoch() // any random token
	replies := r.keys.Replies(user, id)
	msg := controlMessage{Control: controlDisconnect, Reply: id}.payload()
	nodes, err := publish(ctx, r.rdb, r.rdb, r.keys.Channel(user), msg).Result()
	if err != nil {
		return Disconnected{}, fmt.Errorf("disconnect user %d: %w", user, err)
	}
	var d Disconnected
	deadline := time.Now().Add(r.wait)
	for d.Nodes < int(nodes) {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		// BLPOP takes fractional seconds; go-redis's BLPop rounds them up
		// to whole ones. Each wait stays below the client's read timeout.
		timeout := strconv.FormatFloat(min(max(left, 10*time.Millisecond), time.Second).Seconds(), 'f', 3, 64)
		v, err := r.rdb.Do(ctx, "BLPOP", replies, timeout).StringSlice()
		if errors.Is(err, goredis.Nil) {
			continue // this wait passed; the loop checks the deadline
		}
		if err != nil || len(v) != 2 {
			return d, fmt.Errorf("disconnect user %d: read answers: %v", user, err)
		}
		n, _ := strconv.Atoi(v[1])
		d.Closed += n
		d.Nodes++
	}
	d.Unanswered = int(nodes) - d.Nodes
	r.rdb.Del(context.WithoutCancel(ctx), replies)
	return d, nil
}
