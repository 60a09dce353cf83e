package push

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// wireConn is one keep-alive HTTP/1.1 connection of a pusher worker. The
// request is written and its answer read on the worker's own goroutine:
// net/http's Transport hands every request to a writer and a reader
// goroutine per connection, and on a machine the node shares those
// wake-ups cost the pusher more CPU than the node spends on the request.
type wireConn struct {
	addr    string // host:port
	head    []byte // the request up to the Content-Length value
	timeout time.Duration
	c       net.Conn
	br      *bufio.Reader
	buf     []byte
}

// newWireConn returns a connection (dialled on first use) that POSTs to
// path of node (http://host:port) with token as its bearer token.
func newWireConn(node, path, token string, timeout time.Duration) (*wireConn, error) {
	u, err := url.Parse(node)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("push: node %q is not an http://host:port URL", node)
	}
	head := "POST " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n"
	if token != "" {
		head += "Authorization: Bearer " + token + "\r\n"
	}
	return &wireConn{addr: u.Host, head: []byte(head + "Content-Length: "), timeout: timeout}, nil
}

// post sends body and returns the answer's status and body. Any error
// closes the connection (the next request dials again); a request is never
// sent twice.
func (w *wireConn) post(ctx context.Context, body []byte) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	deadline := time.Now().Add(w.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if w.c == nil {
		c, err := (&net.Dialer{Deadline: deadline}).DialContext(ctx, "tcp", w.addr)
		if err != nil {
			return 0, nil, err
		}
		w.c, w.br = c, bufio.NewReaderSize(c, 16<<10)
	}
	status, b, err := w.roundTrip(deadline, body)
	if err != nil {
		w.close()
	}
	return status, b, err
}

func (w *wireConn) roundTrip(deadline time.Time, body []byte) (int, []byte, error) {
	if err := w.c.SetDeadline(deadline); err != nil {
		return 0, nil, err
	}
	w.buf = append(strconv.AppendInt(append(w.buf[:0], w.head...), int64(len(body)), 10), "\r\n\r\n"...)
	w.buf = append(w.buf, body...)
	if _, err := w.c.Write(w.buf); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	if resp.Close {
		w.close() // the node asked to close: the answer is whole
	}
	return resp.StatusCode, b, nil
}

func (w *wireConn) close() {
	if w.c != nil {
		w.c.Close()
		w.c, w.br = nil, nil
	}
}
