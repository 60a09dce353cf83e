package app

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// MessageType is the "type" field of a notification.
type MessageType int

// Notification types of the public contract.
const (
	MsgReservationCreated   MessageType = 1
	MsgReservationConfirmed MessageType = 2
	MsgReservationCancelled MessageType = 3
	MsgReservationReminder  MessageType = 4
	MsgReservationRejected  MessageType = 5
	MsgGenericPush          MessageType = 6
)

// Notification is one message to one user. Its JSON is the message format
// clients read (docs/api.md, "Notifications"); Seq and Epoch are given by
// the publisher, per recipient (see Position).
type Notification struct {
	ID            string      `json:"id"`
	Seq           int64       `json:"seq,omitempty"`
	Epoch         string      `json:"epoch,omitempty"`
	Type          MessageType `json:"type"`
	UserID        int64       `json:"user_id"`
	ReservationID int64       `json:"reservation_id,omitempty"`
	Title         string      `json:"title"`
	Content       string      `json:"content"`
	Timestamp     int64       `json:"timestamp"`
	Detail        any         `json:"detail,omitempty"`
}

// NewMessageID returns a fresh unique message id (128 random bits, hex).
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// DerivedMessageID returns the message id of the message named key for
// user: the same inputs always give the same id (128 bits of SHA-256, hex).
func DerivedMessageID(key string, user int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", key, user))
	return hex.EncodeToString(sum[:16])
}

// Message is a notification ready for the wire: its JSON without seq, which
// the publisher assigns.
type Message struct {
	ID      string
	UserID  int64
	Payload []byte // a JSON object
	// Webhook: the sender asks for the offline webhook should no live
	// session receive the message in time. Only the types that post when
	// asked (generic pushes) read it; the others post by configuration.
	// It travels beside the payload, never in it.
	Webhook bool
	// Muted: its user turned its type off in the app and keeps such
	// messages in the list (ChannelPreference.List). It is stored already
	// seen and read, marked "muted":true, and delivered to no session.
	Muted bool
}

// Type returns the "type" of m's payload, or 0 when it has none of the
// known types. It reads the first "type" key, which in a notification
// comes before any detail.
func (m Message) Type() MessageType {
	const key = `"type":`
	i := bytes.Index(m.Payload, []byte(key))
	if i < 0 || i+len(key)+1 >= len(m.Payload) {
		return 0
	}
	d, next := m.Payload[i+len(key)], m.Payload[i+len(key)+1]
	if d < '0'+byte(MsgReservationCreated) || d > '0'+byte(MsgGenericPush) || (next != ',' && next != '}') {
		return 0
	}
	return MessageType(d - '0')
}

// Message encodes n for publishing.
func (n *Notification) Message() (Message, error) {
	if n.Seq != 0 || n.Epoch != "" {
		return Message{}, Errorf(EInternal, "notification %s already has a position (seq %d)", n.ID, n.Seq)
	}
	b, err := json.Marshal(n)
	if err != nil {
		return Message{}, err
	}
	return Message{ID: n.ID, UserID: n.UserID, Payload: b}, nil
}
