package ws

import "github.com/houseview/gateway/app"

// sentQueue holds the data messages in melody's send buffer, oldest first,
// so that melody's "sent" callback finds the message it wrote without
// parsing it again. Its ring is allocated on the first write.
type sentQueue struct {
	ring []*app.Envelope
	head int
	n    int
}

func (q *sentQueue) push(env *app.Envelope, size int) {
	if q.ring == nil {
		q.ring = make([]*app.Envelope, size)
	}
	q.ring[(q.head+q.n)%len(q.ring)] = env
	q.n++
}

// pop removes and returns the oldest message if frame is its bytes (melody
// writes in order); a frame that is not is a control frame: nil.
func (q *sentQueue) pop(frame []byte) *app.Envelope {
	if q.n == 0 || len(frame) == 0 {
		return nil
	}
	env := q.ring[q.head]
	if len(env.Raw) == 0 || &env.Raw[0] != &frame[0] {
		return nil
	}
	q.ring[q.head] = nil
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return env
}
