// Package redis is the gateway's Redis: the connection (Conn), the name of
// every key and channel (Keys), and the data plane that publishes
// notifications (per-user seq, stored list, pub/sub channel) and reads
// them back.
package redis

import (
	"strconv"
	"strings"
)

// Keys names every Redis key and channel of one deployment. The namespace
// includes the logical database number because pub/sub ignores it. All
// keys of one user share the hash tag {ns:u:ID}, so that one Lua script may
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

func (k Keys) user(user int64) string { return "{" + k.ns + ":u:" + strconv.FormatInt(user, 10) + "}" }

// Stream is the user's stream hash: the fields below, "#<id>" -> seq per
// stored message, so that a message published again keeps its seq, and
// "!<seq>" -> the inbox states of a stored message marked on its own
// (stream.lua).
// It and Messages expire history TTL (plus expirySlack) after the user's
// last message, or after a read created them (stream.lua).
func (k Keys) Stream(user int64) string { return k.user(user) + ":stream" }

// Fields of the Stream hash.
const (
	StreamEpoch  = "epoch"  // the stream's epoch, made when the stream is created
	StreamSeq    = "seq"    // the newest seq given in this epoch
	StreamCursor = "cursor" // the highest seq delivered to, or acknowledged by, a live session
	StreamExpiry = "exp"    // the unix second both keys expire at
	// StreamInbox holds the inbox watermarks and counters: "seen read
	// archived nseen nread nflag" (stream.lua).
	StreamInbox = "inbox"
)

// Messages is the user's capped list of stored messages, oldest first: the
// consecutive seqs of the current epoch ending at its head.
func (k Keys) Messages(user int64) string { return k.user(user) + ":msgs" }

// Channel is the user's pub/sub channel.
func (k Keys) Channel(user int64) string { return k.user(user) + ":ch" }

// Preferences is the channel on which a node announces that a user's
// notification preferences changed (the payload is the user id): every
// node drops its cached copy (app/preferences).
func (k Keys) Preferences() string { return "{" + k.ns + "}:prefs" }

// Presence keys share the hash tag {ns:presence} so that one node may read
// them together on a Redis Cluster too.
func (k Keys) presence() string { return "{" + k.ns + ":presence}" }

// Nodes is a sorted set of node ids scored by their last heartbeat (unix ms).
func (k Keys) Nodes() string { return k.presence() + ":nodes" }

// Node is a hash of one node's stats.
func (k Keys) Node(id string) string { return k.presence() + ":node:" + id }

// NodeUsers is the set of users with a session on node id.
func (k Keys) NodeUsers(id string) string { return k.presence() + ":node:" + id + ":users" }

// NodeProbe is the channel a node publishes to itself to prove that its
// subscription delivers.
func (k Keys) NodeProbe(id string) string { return k.presence() + ":node:" + id + ":probe" }

// ShardProbe is NodeProbe for the node's sharded subscription to one shard
// of a Redis Cluster: its tag (ProbeTagFor) puts it in a slot of that shard.
func (k Keys) ShardProbe(id string, tag int) string {
	return "{" + k.ns + ":probe:" + strconv.Itoa(tag) + "}:node:" + id
}

// ProbeTagFor returns the smallest tag whose ShardProbe channels hash to a
// slot that owned accepts, or false when none of the first 2^22 does.
func (k Keys) ProbeTagFor(owned func(slot int) bool) (int, bool) {
	for tag := range 1 << 22 {
		if owned(Slot(k.ShardProbe("", tag))) {
			return tag, true
		}
	}
	return 0, false
}

// ChannelUser returns the user whose Channel is ch, or false.
func (k Keys) ChannelUser(ch string) (int64, bool) {
	prefix := "{" + k.ns + ":u:"
	if len(ch) <= len(prefix)+4 || ch[:len(prefix)] != prefix || ch[len(ch)-4:] != "}:ch" {
		return 0, false
	}
	id, err := strconv.ParseInt(ch[len(prefix):len(ch)-4], 10, 64)
	return id, err == nil
}

// Revoked holds the unix second until which user's new sessions and
// token refreshes are refused; it expires then.
func (k Keys) Revoked(user int64) string { return k.user(user) + ":revoked" }

// Sessions is a sorted set of user's WebSocket sessions on every node:
// member the session id (which starts with its opening time, so members
// sort oldest first), score the unix ms at which it stops counting unless
// its node refreshes it.
func (k Keys) Sessions(user int64) string { return k.user(user) + ":sessions" }

// Evicted is a sorted set of user's sessions that the session limit
// closed, scored by the unix ms until which the mark is kept, so that a
// session that missed the control message closes itself when it reads it.
func (k Keys) Evicted(user int64) string { return k.user(user) + ":evicted" }

// Replies is a short-lived list on which the nodes that received a
// control message on user's channel push their answers.
func (k Keys) Replies(user int64, id string) string { return k.user(user) + ":replies:" + id }

// UserRate is the state of one rate limit (by name) of user; the limiter
// (go-redis/redis_rate) stores it under "rate:" + this name.
func (k Keys) UserRate(user int64, limit string) string { return k.user(user) + ":rate:" + limit }

// AddrRate is UserRate for a client address.
func (k Keys) AddrRate(addr, limit string) string {
	return "{" + k.ns + ":a:" + addr + "}:rate:" + limit
}

// SlotCount is the number of hash slots of a Redis Cluster.
const SlotCount = 16384

// Slot returns the Redis Cluster hash slot of key (or channel), as CLUSTER
// KEYSLOT does: CRC16 of its hash tag (the part between the first "{" and
// the next "}", when not empty), else of the whole key, modulo SlotCount.
func Slot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return int(crc16(key) % SlotCount)
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021), as Redis Cluster uses.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
