package main

import "time"

// loadSample is the CPU seconds the nodes and redis-server had used, and
// the data messages the clients had received, at one moment.
type loadSample struct {
	at        time.Time
	nodes     []float64
	redis     float64
	delivered int64
}

func (s loadSample) node() float64 {
	var t float64
	for _, v := range s.nodes {
		t += v
	}
	return t
}

// loadMeter takes load samples of a scenario's nodes, Redis and clients.
type loadMeter struct {
	nodes []int
	rdb   *redisDB
	cps   clientProcs
}

func (m loadMeter) sample() loadSample {
	s := loadSample{at: time.Now(), redis: m.rdb.cpuSeconds(), delivered: m.cps.received()}
	for _, pid := range m.nodes {
		s.nodes = append(s.nodes, cpuSeconds(pid))
	}
	return s
}

// coresMeter shows, in progress lines, the cores the nodes and Redis used
// since the previous line.
type coresMeter struct {
	m           loadMeter
	node, redis cpuMeter
}

func (c *coresMeter) read() (node, redis float64) {
	s := c.m.sample()
	return c.node.cores(s.node()), c.redis.cores(s.redis)
}
