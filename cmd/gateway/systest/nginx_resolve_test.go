package systest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/houseview/gateway/pkg/testenv"
	"golang.org/x/net/dns/dnsmessage"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// dnsServer answers A queries for one name on UDP loopback with the
// address it holds now, valid for ttl seconds; other names get NXDOMAIN.
type dnsServer struct {
	Addr string
	name string
	ttl  uint32
	ip   atomic.Value // netip.Addr
}

// mustServeDNS starts a dnsServer for name answering ip; it stops with
// the test.
func mustServeDNS(tb testing.TB, name string, ip netip.Addr) *dnsServer {
	tb.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	d := &dnsServer{Addr: conn.LocalAddr().String(), name: name + ".", ttl: 1}
	d.ip.Store(ip)
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if answer, err := d.answer(buf[:n]); err == nil {
				conn.WriteTo(answer, from)
			}
		}
	}()
	return d
}

// Move makes the name resolve to ip from now on.
func (d *dnsServer) Move(ip netip.Addr) { d.ip.Store(ip) }

func (d *dnsServer) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	reply := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	known := strings.EqualFold(q.Name.String(), d.name)
	if !known {
		reply = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
	}
	reply.EnableCompression()
	if err := reply.StartQuestions(); err != nil {
		return nil, err
	}
	if err := reply.Question(q); err != nil {
		return nil, err
	}
	if known && q.Type == dnsmessage.TypeA {
		if err := reply.StartAnswers(); err != nil {
			return nil, err
		}
		ip := d.ip.Load().(netip.Addr).As4()
		head := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: d.ttl}
		if err := reply.AResource(head, dnsmessage.AResource{A: ip}); err != nil {
			return nil, err
		}
	}
	return reply.Finish()
}

// TestNginxFollowsANodeToANewAddress runs the repo's nginx files as
// compose does, sending to a node name that a DNS server resolves: the
// node is killed and comes back on another address under the same name,
// and nginx sends HTTP and gRPC there without a reload.
func TestNginxFollowsANodeToANewAddress(t *testing.T) {
	httpPort, grpcPort := testenv.MustFreePort(t), testenv.MustFreePort(t)
	nodeAt := func(ip, id string) []string {
		return withNode(sharedEnv(t, fmt.Sprintf("GATEWAY_HTTP_ADDR=%s:%d", ip, httpPort), fmt.Sprintf("GATEWAY_GRPC_ADDR=%s:%d", ip, grpcPort)), id)
	}
	first := MustStart(t, nodeAt("127.0.0.2", "first"))
	dns := mustServeDNS(t, "gateway.test", netip.MustParseAddr("127.0.0.2"))
	lb := mustStartNginxConf(t, fmt.Sprintf("    resolver %s valid=1s ipv6=off;\n    resolver_timeout 1s;\n", dns.Addr),
		fmt.Sprintf("gateway.test:%d", httpPort), fmt.Sprintf("gateway.test:%d", grpcPort))
	if !answers(t, lb) {
		t.Fatal("nginx does not reach the node at 127.0.0.2")
	}

	// Nothing listens on 127.0.0.2 after this: an answer comes from the
	// node at 127.0.0.3, which nginx finds only by resolving the name again.
	first.Kill()
	<-first.Exited()
	dns.Move(netip.MustParseAddr("127.0.0.3"))
	second := MustStart(t, nodeAt("127.0.0.3", "second"))
	if !strings.HasPrefix(second.HTTPURL, "http://127.0.0.3:") {
		t.Fatalf("the second node listens on %s, want 127.0.0.3", second.HTTPURL)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !answers(t, lb) {
		if time.Now().After(deadline) {
			t.Fatal("nginx did not reach the node at its new address within 15 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(dial(t, lb.GRPCAddr)).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true)); err != nil {
		t.Errorf("gRPC through nginx after the move: %v", err)
	}
}

// answers reports whether a node answered /readyz through lb.
func answers(t *testing.T, lb *lb) bool {
	t.Helper()
	resp, err := http.Get(lb.HTTPURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
