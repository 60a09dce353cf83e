package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/houseview/gateway/cmd/gateway/settings"
	"github.com/houseview/gateway/pkg/config"
)

// secretFile is one secret that `gateway secrets init` generates: a file
// named name holding size random bytes in hex, read by a node through the
// _FILE variable of key (GATEWAY_JWT_SECRET_FILE=DIR/jwt_secret).
type secretFile struct {
	name string
	key  string
	size int
}

// generatedSecrets are the files of `gateway secrets init`.
var generatedSecrets = []secretFile{
	{name: "jwt_secret", key: "jwt.secret", size: 32},
	{name: "api_key", key: "api_key", size: 24},
}

// runSecrets runs `gateway secrets init -dir DIR`: each secret file absent
// from DIR is created with fresh random content, mode 0600; an existing one
// is kept. It prints the files' paths, never their content.
func runSecrets(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		return fmt.Errorf("usage: gateway secrets init -dir DIR")
	}
	fset := flag.NewFlagSet("secrets init", flag.ContinueOnError)
	fset.SetOutput(stdout)
	dir := fset.String("dir", "", "directory of the secret files, created if absent (required)")
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("secrets init: -dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("secrets init: %w", err)
	}
	for _, s := range generatedSecrets {
		path := filepath.Join(*dir, s.name)
		created, err := config.CreateSecretFile(path, s.size)
		if err != nil {
			return fmt.Errorf("secrets init: %w", err)
		}
		verb := "kept"
		if created {
			verb = "created"
		}
		fmt.Fprintf(stdout, "%s %s (%s)\n", verb, path, settings.Schema.EnvName(s.key)+"_FILE")
	}
	return nil
}
