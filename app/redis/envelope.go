package redis

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/houseview/gateway/app"
)

// ParseEnvelope reads the prefix that the publish script writes on every
// stored and published message of user, {"seq":N,"epoch":"E","ts":MS,...,
// once, into an Envelope whose Raw holds the message's bytes, and
// "muted":true right after ts (a message kept for the list only) into
// Muted. A published
// copy ends with a line of inbox counts (publish.lua), which goes to
// Counts: Raw is the message as stored.
func ParseEnvelope(user int64, msg string) (*app.Envelope, bool) {
	var counts app.InboxCounts
	hasCounts := false
	if nl := strings.LastIndexByte(msg, '\n'); nl >= 0 {
		if !parseCounts(msg[nl+1:], &counts) {
			return nil, false
		}
		msg, hasCounts = msg[:nl], true
	}
	seq, i, ok := leadingInt(msg, `{"seq":`, 0)
	if !ok || seq <= 0 || msg[i] != ',' {
		return nil, false
	}
	const epochKey = `,"epoch":"`
	if !hasAt(msg, epochKey, i) {
		return nil, false
	}
	start := i + len(epochKey)
	end := start
	for end < len(msg) && msg[end] != '"' && end-start <= maxEpochLen {
		end++
	}
	if end == start || end >= len(msg) || msg[end] != '"' {
		return nil, false
	}
	ts, j, ok := leadingInt(msg, `,"ts":`, end+1)
	if !ok {
		return nil, false
	}
	// Raw shares msg's bytes instead of copying them: a string is never
	// written to, and nothing writes to Raw (app.Envelope).
	raw := unsafe.Slice(unsafe.StringData(msg), len(msg))
	return &app.Envelope{UserID: user, Epoch: msg[start:end], Seq: seq, TS: ts, Raw: raw, Counts: counts,
		HasCounts: hasCounts, Muted: hasAt(msg, mutedKey, j)}, true
}

// mutedKey follows ts in a message its user muted in the app but keeps in
// the list (publish.lua).
const mutedKey = `,"muted":true`

// parseCounts reads {"unseen":N,"unread":M}, as the scripts write it.
func parseCounts(s string, c *app.InboxCounts) bool {
	unseen, i, ok := leadingInt(s, `{"unseen":`, 0)
	if !ok {
		return false
	}
	unread, j, ok := leadingInt(s, `,"unread":`, i)
	if !ok || j != len(s)-1 || s[j] != '}' {
		return false
	}
	*c = app.InboxCounts{Unseen: unseen, Unread: unread}
	return true
}

// maxEpochLen bounds an epoch's length when parsing (Token makes at most
// 13 characters).
const maxEpochLen = 32

// MessageType returns the "type" of a message payload as a metric label:
// "1" to "6" (app.MessageType), or "unknown" (see app.Message.Type).
func MessageType(payload []byte) string {
	t := app.Message{Payload: payload}.Type()
	if t == 0 {
		return "unknown"
	}
	return strconv.Itoa(int(t)) // one digit: a static string, no allocation
}

func hasAt(msg, prefix string, from int) bool {
	return from >= 0 && len(msg)-from >= len(prefix) && msg[from:from+len(prefix)] == prefix
}

// leadingInt reads prefix at msg[from:] and the non-negative integer after
// it, which must be followed by ',' or '}'. It returns the integer and the
// index of that delimiter.
func leadingInt(msg, prefix string, from int) (int64, int, bool) {
	if !hasAt(msg, prefix, from) {
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
