package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	drv "github.com/go-sql-driver/mysql"

	"github.com/houseview/gateway/app"
)

// MySQL and MariaDB server errors: a duplicate key, and those that mean
// "not now" rather than "never".
const (
	erDuplicate          = 1062
	erTooManyConnections = 1040
	erServerShutdown     = 1053
	erLockWaitTimeout    = 1205
	erDeadlock           = 1213
	erReadOnly           = 1290 // --read-only (a replica, a failover in progress)
	erConnectionKilled   = 1927
	erReadOnlyMode       = 1836
)

// errUnavailable is what a caller sees while the database cannot be
// reached: 503 / UNAVAILABLE, and the request may be retried.
var errUnavailable = app.Errorf(app.EUnavailable, "the database is unavailable; try again")

// dbError wraps the error of a database call described by what. A call that
// could not reach the database (the server is down, restarting, refusing
// connections, or dropped the connection) is app.EUnavailable; a deadlock
// is app.EAborted (the caller lost a race); anything else stays internal.
// The original error stays in the chain for the logs.
//
// A write whose connection dropped at its commit may have committed: its
// caller gets EUnavailable all the same, and a retry finds the new state
// (a transition answers failed_precondition). Its notifications are in the
// outbox either way, and the outbox relay publishes them.
func dbError(what string, err error) error {
	var ae *app.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case unreachable(err):
		return fmt.Errorf("%w: %s: %w", errUnavailable, what, err)
	case serverError(err, erDeadlock):
		return fmt.Errorf("%w: %s: %w", app.Errorf(app.EAborted, "the change met another one at the same time; try again"), what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// unreachable reports whether err says the database could not be reached
// or dropped the connection, rather than refused the statement.
func unreachable(err error) bool {
	var op *net.OpError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, drv.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &op) ||
		serverError(err, erTooManyConnections, erServerShutdown, erLockWaitTimeout, erReadOnly, erReadOnlyMode, erConnectionKilled)
}

// serverError reports whether err is a server error with one of numbers.
func serverError(err error, numbers ...uint16) bool {
	var me *drv.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	for _, n := range numbers {
		if me.Number == n {
			return true
		}
	}
	return false
}
