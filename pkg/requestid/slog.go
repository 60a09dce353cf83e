package requestid

import (
	"context"
	"log/slog"
)

// Attr is the key of the request id in log records.
const Attr = "request_id"

// Handler is a slog.Handler that adds the request id of a record's context
// (logged with the *Context methods) as "request_id".
type Handler struct {
	next slog.Handler
}

// NewHandler wraps next. Wrapping a Handler again returns it unchanged, so
// every package may wrap the logger it is given.
func NewHandler(next slog.Handler) slog.Handler {
	if h, ok := next.(*Handler); ok {
		return h
	}
	return &Handler{next: next}
}

// Logger returns log with its handler wrapped by NewHandler (nil stays nil).
func Logger(log *slog.Logger) *slog.Logger {
	if log == nil {
		return nil
	}
	if _, ok := log.Handler().(*Handler); ok {
		return log
	}
	return slog.New(NewHandler(log.Handler()))
}

// Enabled reports whether the wrapped handler handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds the context's request id, if any, and passes r on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(Attr, id))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs wraps the wrapped handler's WithAttrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs)}
}

// WithGroup wraps the wrapped handler's WithGroup.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}
