package grpcapi

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/houseview/gateway/pkg/requestid"
)

// Metrics counts unary calls. It must not block.
type Metrics interface {
	// GRPCRequest counts a call of method (its full name) that ended with
	// code (a gRPC status code name, e.g. "OK", "NotFound") after d.
	GRPCRequest(method, code string, d time.Duration)
}

// requestIDKey is the metadata key of the request id.
const requestIDKey = "x-request-id"

// requestID takes the caller's x-request-id metadata if it is sane
// (requestid.Valid) or makes one, sends it back as a header and puts it in
// the context, where the logger finds it.
func (in *interceptors) requestID(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	given := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(requestIDKey); len(v) > 0 {
			given = v[0]
		}
	}
	id := requestid.Ensure(given)
	_ = grpc.SetHeader(ctx, metadata.Pairs(requestIDKey, id))
	return next(requestid.NewContext(ctx, id), req)
}

// observe logs one line per call (method, code, latency and, from the
// context, request_id; never metadata, so never a token) and reports it to
// Metrics. It sits above mapErrors: it sees the final status.
func (in *interceptors) observe(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := next(ctx, req)
	d := time.Since(start)
	code := status.Code(err)
	if in.metrics != nil {
		in.metrics.GRPCRequest(info.FullMethod, code.String(), d)
	}
	in.log.LogAttrs(ctx, slog.LevelInfo, "grpc request",
		slog.String("method", info.FullMethod), slog.String("code", code.String()), slog.Duration("latency", d))
	return resp, err
}
