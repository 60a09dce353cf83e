package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"

	_ "github.com/go-sql-driver/mysql" // driver for database/sql
)

// RandomName returns prefix followed by 12 random hex characters.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// DSNOn returns the DSN of database name on the server of serverDSN
// ("user:pass@tcp(host:port)/", without a database), with the options the
// gateway expects (utf8mb4, parseTime, UTC).
func DSNOn(serverDSN, name string) string {
	base := serverDSN[:strings.LastIndex(serverDSN, "/")+1]
	base = strings.TrimSuffix(base, "/") + "/"
	return base + name + "?charset=utf8mb4&parseTime=true&loc=UTC"
}

// CreateDatabase creates the empty database name (utf8mb4) on the server
// of serverDSN.
func CreateDatabase(ctx context.Context, serverDSN, name string) error {
	return execOn(ctx, serverDSN, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", "create database")
}

// DropDatabase drops database name, if it exists, on the server of
// serverDSN.
func DropDatabase(ctx context.Context, serverDSN, name string) error {
	return execOn(ctx, serverDSN, "DROP DATABASE IF EXISTS `"+name+"`", "drop database "+name)
}

func execOn(ctx context.Context, serverDSN, stmt, what string) error {
	db, err := sql.Open("mysql", serverDSN)
	if err != nil {
		return fmt.Errorf("open mysql: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
