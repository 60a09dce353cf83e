package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/houseview/gateway/cmd/gateway/settings"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

const secret = "0123456789abcdef0123456789abcdef"

const apiKey = "test-api-key-0123456789"

// MustWriteFile writes a temporary file and returns its path.
func MustWriteFile(tb testing.TB, body string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// LoadConfig is settings.Load, for the tests of the deployment files.
func LoadConfig(path string, getenv func(string) string) (*settings.Config, error) {
	return settings.Load(path, getenv)
}

// EnvName is the variable of key.
func EnvName(key string) string { return settings.Schema.EnvName(key) }

// EnvNames are the variables the configuration reads.
func EnvNames() []string { return settings.Schema.EnvNames() }
