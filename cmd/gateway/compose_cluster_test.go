package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestComposeRedisClusterProfile: the redis-cluster profile runs six
// cluster-enabled nodes and an init that joins them as 3 masters with a
// replica each; the addresses the compose file tells operators to put in
// GATEWAY_REDIS_ADDRS are its nodes, and a node accepts that setting.
func TestComposeRedisClusterProfile(t *testing.T) {
	p, _ := mustLoadCompose(t, "redis-cluster")
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("redis-c%d", i)
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		cmd := strings.Join(s.Command, " ")
		if !slices.Equal(s.Profiles, []string{"redis-cluster"}) || !strings.Contains(cmd, "--cluster-enabled yes") || s.HealthCheck == nil {
			t.Errorf("%s: profiles %v, command %q: want the redis-cluster profile, cluster-enabled, a healthcheck", name, s.Profiles, cmd)
		}
	}
	initCmd := strings.Join(p.Services["redis-cluster-init"].Command, " ")
	for _, want := range []string{"--cluster create", "--cluster-replicas 1", "redis-c6"} {
		if !strings.Contains(initCmd, want) {
			t.Errorf("redis-cluster-init lacks %q: %s", want, initCmd)
		}
	}
	cfg, err := LoadConfig("", env(map[string]string{"GATEWAY_AUTH_MODE": "insecure", "GATEWAY_REDIS_MODE": "cluster",
		"GATEWAY_REDIS_ADDRS": "redis-c1:6379,redis-c2:6379,redis-c3:6379"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.Redis.Addrs {
		if _, ok := p.Services[strings.TrimSuffix(a, ":6379")]; !ok {
			t.Errorf("GATEWAY_REDIS_ADDRS names %s, not a service of the profile", a)
		}
	}
}
