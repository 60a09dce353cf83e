package main

import (
	"strings"
	"testing"
)

// TestRedisModeSettings: each redis.mode refuses what it cannot run with,
// naming the setting and saying why.
func TestRedisModeSettings(t *testing.T) {
	base := map[string]string{"GATEWAY_AUTH_MODE": "insecure"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; none: valid
	}{
		{"standalone by default", with(), nil},
		{"cluster", with("GATEWAY_REDIS_MODE", "cluster", "GATEWAY_REDIS_ADDRS", "r1:6379,r2:6379"), nil},
		{"cluster refuses db 1", with("GATEWAY_REDIS_MODE", "cluster", "GATEWAY_REDIS_ADDRS", "r1:6379", "GATEWAY_REDIS_DB", "1"),
			[]string{"redis.db (GATEWAY_REDIS_DB)", "must be 0 in cluster mode", "redis.namespace"}},
		{"cluster needs seeds", with("GATEWAY_REDIS_MODE", "Cluster"), []string{"redis.addrs (GATEWAY_REDIS_ADDRS)", "cluster's nodes"}},
		{"sentinel", with("GATEWAY_REDIS_MODE", "sentinel", "GATEWAY_REDIS_ADDRS", "s1:26379,s2:26379,s3:26379",
			"GATEWAY_REDIS_MASTER_NAME", "gw"), nil},
		{"sentinel needs a master name", with("GATEWAY_REDIS_MODE", "sentinel", "GATEWAY_REDIS_ADDRS", "s1:26379"),
			[]string{"redis.master_name (GATEWAY_REDIS_MASTER_NAME)"}},
		{"unknown mode", with("GATEWAY_REDIS_MODE", "sharded"), []string{"redis.mode (GATEWAY_REDIS_MODE)", "standalone, sentinel, cluster"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig("", env(tt.env))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("LoadConfig: %v", err)
				}
				if tt.env["GATEWAY_REDIS_ADDRS"] != "" && len(cfg.Redis.Addrs) != strings.Count(tt.env["GATEWAY_REDIS_ADDRS"], ",")+1 {
					t.Errorf("redis.addrs = %q", cfg.Redis.Addrs)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
