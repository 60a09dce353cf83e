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

// Cursor is the highest seq of the user's messages delivered to any live
// session: a session that connects without last_seq gets what follows it.
func (k Keys) Cursor(user int64) string { return k.user(user) + ":cursor" }

// Presence keys share the hash tag {ns:presence} so that one node may read
// them together on a Redis Cluster too.
func (k Keys) presence() string { return "{" + k.ns + ":presence}" }

// Nodes is a sorted set of node ids scored by their last heartbeat (unix ms).
func (k Keys) Nodes() string { return k.presence() + ":nodes" }

// Node is a hash of one node's stats (connections, users, started_at...).
func (k Keys) Node(id string) string { return k.presence() + ":node:" + id }

// NodeUsers is the set of users with a session on node id.
func (k Keys) NodeUsers(id string) string { return k.presence() + ":node:" + id + ":users" }

// NodeProbe is the channel a node publishes to itself to prove that its
// pub/sub subscription delivers.
func (k Keys) NodeProbe(id string) string { return k.presence() + ":node:" + id + ":probe" }

// ChannelUser returns the user whose Channel is ch, or false.
func (k Keys) ChannelUser(ch string) (int64, bool) {
	prefix := "{" + k.ns + ":u:"
	if len(ch) <= len(prefix)+4 || ch[:len(prefix)] != prefix || ch[len(ch)-4:] != "}:ch" {
		return 0, false
	}
	id, err := strconv.ParseInt(ch[len(prefix):len(ch)-4], 10, 64)
	return id, err == nil
}
