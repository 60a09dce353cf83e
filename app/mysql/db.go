// Package mysql stores houses, reservations and the notification outbox in
// MySQL 8 / MariaDB 10.11 through gorm.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	drv "github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	gwsql "github.com/houseview/gateway/sql"
)

// Open connects to the database named in dsn, creating it (utf8mb4) when it
// does not exist. parseTime and interpolateParams are forced on, loc to UTC.
func Open(ctx context.Context, dsn string) (*gorm.DB, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql dsn: %w", err)
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	// Arguments go into the query text (utf8mb4 only): one round trip per
	// query instead of prepare, execute and close.
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["charset"]; !ok {
		cfg.Params["charset"] = "utf8mb4"
	}
	if err := createDatabase(ctx, *cfg); err != nil {
		return nil, err
	}
	db, err := gorm.Open(gormmysql.Open(cfg.FormatDSN()), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("mysql open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(50)
	sqlDB.SetMaxIdleConns(25)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("mysql ping: %w", err)
	}
	return db, nil
}

// CheckDSN reports what Open would refuse in dsn: it must parse (the
// driver's ParseDSN) and name a database. The error never quotes dsn,
// which may hold a password.
func CheckDSN(dsn string) error {
	_, err := parseDSN(dsn)
	return err
}

func parseDSN(dsn string) (*drv.Config, error) {
	cfg, err := drv.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.DBName == "" {
		return nil, errors.New("no database name")
	}
	return cfg, nil
}

// PingServer checks that the server of dsn accepts its user, without
// opening the database (Open creates it when absent).
func PingServer(ctx context.Context, dsn string) error {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return fmt.Errorf("mysql dsn: %w", err)
	}
	cfg.DBName = ""
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return fmt.Errorf("mysql %s: %w", cfg.Addr, err)
	}
	defer server.Close()
	if err := server.PingContext(ctx); err != nil {
		return fmt.Errorf("mysql %s: %w", cfg.Addr, err)
	}
	return nil
}

func createDatabase(ctx context.Context, cfg drv.Config) error {
	name := cfg.DBName
	cfg.DBName = ""
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return fmt.Errorf("mysql open server: %w", err)
	}
	defer server.Close()
	q := "CREATE DATABASE IF NOT EXISTS `" + strings.ReplaceAll(name, "`", "``") + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	if _, err := server.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("mysql create database %q: %w", name, err)
	}
	return nil
}

// Migrate applies every pending migration of sql/, holding a table lock so
// that nodes starting together migrate once.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	locker, err := lock.NewMySQLTableLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectMySQL, sqlDB, gwsql.Migrations, goose.WithLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "path", r.Source.Path, "took", r.Duration)
		}
	}
	return nil
}

// Ping checks that the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}
