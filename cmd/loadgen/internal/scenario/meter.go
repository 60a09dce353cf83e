package scenario

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/houseview/gateway/cmd/loadgen/internal/clients"
	"github.com/houseview/gateway/cmd/loadgen/internal/measure"
)

// redisCPU is the CPU time Redis has used: from /proc for private
// servers, else from INFO cpu (the whole server's); 0 when unknown.
func (o *orch) redisCPU() float64 {
	if len(o.redis) > 0 {
		return measure.Sum(o.redisCPUs())
	}
	info := o.redisInfo("cpu")
	return max(measure.LineFloat(info, "used_cpu_user:")+measure.LineFloat(info, "used_cpu_sys:"), 0)
}

func (o *orch) redisInfo(section string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, _ := o.rdb.Client.Info(ctx, section).Result()
	return s
}

// loadSample is the CPU seconds the nodes and Redis had used, and the data
// messages the clients had received, at one moment.
type loadSample struct {
	at        time.Time
	nodes     []float64
	redis     float64
	delivered int64
}

func (s loadSample) node() float64 { return measure.Sum(s.nodes) }

// loadMeter takes load samples of a scenario's nodes, Redis and clients,
// and turns them into the cores used since the previous reading for the
// progress line.
type loadMeter struct {
	nodes []*gatewayNode
	o     *orch
	cps   clients.Procs
	last  loadSample
}

func (m *loadMeter) sample() loadSample {
	s := loadSample{at: time.Now(), redis: m.o.redisCPU(), delivered: m.cps.Total().Received}
	for _, n := range m.nodes {
		s.nodes = append(s.nodes, measure.CPUSeconds(n.Pid()))
	}
	return s
}

// cores is the CPU the nodes and Redis used per second since the last call.
func (m *loadMeter) cores() (node, redis float64) {
	s := m.sample()
	if d := s.at.Sub(m.last.at).Seconds(); !m.last.at.IsZero() && d > 0 {
		node, redis = (s.node()-m.last.node())/d, (s.redis-m.last.redis)/d
	}
	m.last = s
	return node, redis
}

// progress prints a status line on stderr at most once per interval.
type progress struct {
	w           io.Writer
	every       time.Duration // 0: silent
	name        string
	start, last time.Time
}

// maybe prints line() when the interval has passed since the last line.
func (p *progress) maybe(line func() string) {
	if p.every <= 0 || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "[%s %s] %s\n", p.name, time.Since(p.start).Round(time.Second), line())
}
