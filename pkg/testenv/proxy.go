package testenv

import (
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target address
// and injects network faults between them:
//
//   - Partition holds every byte in both directions, on open and new
//     connections (they stay open, nothing arrives), until Heal;
//   - Stall holds the bytes of the connections open now, forever, while
//     new connections work: a connection that died silently (a dropped NAT
//     entry, a peer gone without a reset);
//   - Cut closes every connection (new ones are accepted).
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu         sync.Mutex
	readBuffer int // SetReadBuffer's
	links      map[*link]struct{}
	open       chan struct{} // closed while new connections' bytes may flow
	closed     bool
}

type link struct {
	client, server net.Conn
	gate           chan struct{} // closed while bytes may flow
}

// MustProxy starts a proxy to target, stopped when the test ends.
func MustProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, links: map[*link]struct{}{}, open: closedChan()}
	go p.accept()
	tb.Cleanup(p.close)
	return p
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.readBuffer > 0 {
		_ = server.(*net.TCPConn).SetReadBuffer(p.readBuffer)
	}
	if p.closed {
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	l := &link{client: client, server: server, gate: p.open}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	go p.pipe(l, server, client)
	p.pipe(l, client, server)
}

// pipe copies src to dst, holding each chunk while the link's gate is
// shut; it closes both ends when either fails.
func (p *Proxy) pipe(l *link, src, dst net.Conn) {
	defer func() {
		l.client.Close()
		l.server.Close()
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gateOf(l)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF or a closed connection: the other side ends too
			return
		}
	}
}

func (p *Proxy) gateOf(l *link) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return l.gate
}

// SetReadBuffer fixes the receive buffer of the proxy's connections to the
// target that open from now on (0: the kernel's autotuning), so that a
// Stall fills the target's send buffers with little data.
func (p *Proxy) SetReadBuffer(bytes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readBuffer = bytes
}

// Partition holds every byte from now on, in both directions, on every
// connection, until Heal.
func (p *Proxy) Partition() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
		p.open = make(chan struct{})
	default: // partitioned already
	}
	for l := range p.links {
		l.gate = p.open
	}
}

// Stall holds the bytes of every connection open now, until Heal; new
// connections are not affected.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.gate = make(chan struct{})
	}
}

// Heal lets the held bytes, and all that follow, through.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
	for l := range p.links {
		select {
		case <-l.gate:
		default:
			close(l.gate)
		}
		l.gate = p.open
	}
}

// Cut closes every connection through the proxy; new ones are accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.client.Close()
		l.server.Close()
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.Heal()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Cut()
}
