package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/cmd/gateway/settings"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/jwtauth"
)

func newFlags(name string, stdout io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseFlags reports a mistake once, and -h on stdout
	path := fs.String("config", "", "YAML configuration file (optional; GATEWAY_* variables override it)")
	return fs, path
}

// parseFlags parses args into fs. -h prints the command's flags on stdout
// and returns flag.ErrHelp (run exits 0); a mistake is one error line that
// says how to list the flags.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage of gateway %s:\n", fs.Name())
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %v (gateway %s -h lists its flags)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (gateway %s -h lists its flags)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

func runToken(args []string, getenv func(string) string, stdout io.Writer) error {
	fs, path := newFlags("token", stdout)
	user := fs.Int64("user", 0, "user id to put in the token's sub (required)")
	ttl := 24 * time.Hour
	fs.Func("ttl", "how long the token is valid: 1h, 30m, 7d, 1d12h (default 24h)", func(text string) error {
		d, err := config.ParseDuration(text)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration", text)
		}
		ttl = d
		return nil
	})
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *user <= 0 {
		return fmt.Errorf("token: -user must be a positive user id")
	}
	// Only the jwt.* settings: a token needs no database, Redis or auth mode.
	cfg, err := settings.Schema.LoadKeys(*path, getenv, "jwt.")
	if err != nil {
		return err
	}
	if len(cfg.JWT.Secret) < jwtauth.MinSecretLen {
		return fmt.Errorf("token: no jwt secret configured (GATEWAY_JWT_SECRET, at least %d bytes)", jwtauth.MinSecretLen)
	}
	tok, err := jwtauth.SignToken([]byte(cfg.JWT.Secret), jwtauth.Token{User: *user, IssuedAt: time.Now(), TTL: ttl,
		Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("migrate", stdout)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	// Only the database and the log: migrating needs no Redis or auth mode.
	cfg, err := settings.Schema.LoadKeys(*path, getenv, "mysql.", "log.")
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	config.LogUnknown(log, settings.Schema.Unknown(environ()))
	db, err := mysql.Open(ctx, cfg.MySQL.DSN)
	if err != nil {
		return err
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	n, err := prepareDB(ctx, db, cfg, log)
	if err != nil {
		return err
	}
	log.Info("database ready", "seeded_houses", n)
	return nil
}

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
	fset.SetOutput(io.Discard)
	dir := fset.String("dir", "", "directory of the secret files, created if absent (required)")
	if err := parseFlags(fset, args[1:], stdout); err != nil {
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
