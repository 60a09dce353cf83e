package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/cmd/gateway/settings"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/jwtauth"
)

func newFlags(name string, stdout io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	path := fs.String("config", "", "YAML configuration file (optional; GATEWAY_* variables override it)")
	return fs, path
}

func runToken(args []string, getenv func(string) string, stdout io.Writer) error {
	fs, path := newFlags("token", stdout)
	user := fs.Int64("user", 0, "user id to put in the token's sub (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user <= 0 {
		return fmt.Errorf("token: -user must be a positive user id")
	}
	cfg, err := settings.Load(*path, getenv)
	if err != nil {
		return err
	}
	if len(cfg.JWT.Secret) < jwtauth.MinSecretLen {
		return fmt.Errorf("token: no jwt secret configured (GATEWAY_JWT_SECRET, at least %d bytes)", jwtauth.MinSecretLen)
	}
	tok, err := jwtauth.SignToken([]byte(cfg.JWT.Secret), jwtauth.Token{User: *user, IssuedAt: time.Now(), TTL: *ttl,
		Issuer: cfg.JWT.Issuer, Audience: cfg.JWT.Audience})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, environ func() []string, stdout io.Writer) error {
	fs, path := newFlags("migrate", stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, unknown, err := settings.Schema.LoadAll(*path, getenv, environ())
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	config.LogUnknown(log, unknown)
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
