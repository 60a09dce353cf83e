// Package requestid carries a request id through a context and into log
// records: transports take a sane id from the caller (or make one), put it
// in the context with NewContext, and a logger wrapped by Logger adds it as
// "request_id" to every record logged with that context.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// Header is the HTTP header (and, lower-cased, the gRPC metadata key) of
// the request id.
const Header = "X-Request-ID"

// MaxLen is the longest request id accepted from a caller.
const MaxLen = 64

type key struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// FromContext returns the request id ctx carries, or "".
func FromContext(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(key{}).(string)
	return id
}

// Valid reports whether id is a sane caller-given request id: 1 to MaxLen
// characters of [A-Za-z0-9-_.].
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// New returns a fresh request id: 16 random bytes, hex (32 characters).
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// Ensure returns given when it is Valid, else a New id.
func Ensure(given string) string {
	if Valid(given) {
		return given
	}
	return New()
}

// Attr is the key of the request id in log records.
const Attr = "request_id"

// Logger returns log with its handler wrapped so that it adds the request
// id of a record's context (logged with the *Context methods) as
// "request_id". A logger wrapped already is returned unchanged, so every
// package may wrap the logger it is given; nil stays nil.
func Logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	if _, ok := log.Handler().(handler); ok {
		return log
	}
	return slog.New(handler{log.Handler()})
}

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(Attr, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(attrs)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.Handler.WithGroup(name)} }
