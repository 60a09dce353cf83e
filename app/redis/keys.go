// Package redis publishes notifications through Redis: per-user sequence,
// stored message list and pub/sub channel. Every key and channel name the
// gateway uses comes from keys.go.
package redis

import (
	"fmt"
	"strconv"
)

// Keys names every Redis key and channel of one deployment. The namespace
// includes the logical database number, because pub/sub ignores it: two
// deployments on one Redis with different DBs never share a channel.
//
// All keys of one user share the hash tag {ns:u:ID}, so one Lua script may
// touch them all on a Redis Cluster too.
type Keys struct {
	ns string
}

// NewKeys returns the names for namespace on logical database db.
func NewKeys(namespace string, db int) Keys {
	return Keys{ns: namespace + ":" + strconv.Itoa(db)}
}

// Namespace is the prefix every name starts with (after the brace).
func (k Keys) Namespace() string { return k.ns }

func (k Keys) user(user int64) string { return fmt.Sprintf("{%s:u:%d}", k.ns, user) }

// Seq is the user's message counter (INCR gives the next seq). It never
// expires, so a seq is never reused.
func (k Keys) Seq(user int64) string { return k.user(user) + ":seq" }

// Messages is the user's capped list of stored messages, oldest first.
func (k Keys) Messages(user int64) string { return k.user(user) + ":msgs" }

// Published marks message id as published for user (its value is the seq),
// so that a retried publish is not delivered twice.
func (k Keys) Published(user int64, id string) string { return k.user(user) + ":pub:" + id }

// Channel is the user's pub/sub channel.
func (k Keys) Channel(user int64) string { return k.user(user) + ":ch" }
