package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/auth"
	"github.com/houseview/gateway/pkg/jwtauth"
	"github.com/houseview/gateway/pkg/requestid"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// operations names the auth.Operation of each House method: the policy
// (auth.Policy) decides what each needs. Other services (health,
// reflection) are open.
var operations = map[string]auth.Operation{
	housev1.House_RecommendList_FullMethodName:         auth.Recommend,
	housev1.House_PersonalRecommendList_FullMethodName: auth.PersonalRecommend,
	housev1.House_ReserveHouse_FullMethodName:          auth.Reserve,
	housev1.House_ConfirmReservation_FullMethodName:    auth.Confirm,
	housev1.House_RejectReservation_FullMethodName:     auth.Reject,
	housev1.House_CancelReservation_FullMethodName:     auth.Cancel,
	housev1.House_RemindReservation_FullMethodName:     auth.Remind,
	housev1.House_GetReservation_FullMethodName:        auth.GetReservation,
	housev1.House_ListReservations_FullMethodName:      auth.ListReservations,
	housev1.House_Push_FullMethodName:                  auth.Push,
	housev1.House_RegisterDevice_FullMethodName:        auth.RegisterDevice,
	housev1.House_ListDevices_FullMethodName:           auth.ListDevices,
	housev1.House_DeleteDevice_FullMethodName:          auth.DeleteDevice,
	housev1.House_GetPreferences_FullMethodName:        auth.GetPreferences,
	housev1.House_UpdatePreferences_FullMethodName:     auth.UpdatePreferences,
	housev1.House_ListInbox_FullMethodName:             auth.ListInbox,
	housev1.House_MarkInbox_FullMethodName:             auth.MarkInbox,
	housev1.House_InboxCounts_FullMethodName:           auth.InboxCounts,
}

// Operations returns the operation of every House method (full method
// name), for tests that walk the policy over the transports.
func Operations() map[string]auth.Operation {
	return maps.Clone(operations)
}

type interceptors struct {
	auth    *auth.Authenticator
	log     *slog.Logger
	metrics Metrics
}

type callerKey struct{}

// callerOf returns the caller the auth interceptor authorized.
func callerOf(ctx context.Context) auth.Caller {
	c, _ := ctx.Value(callerKey{}).(auth.Caller)
	return c
}

// mapErrors turns every error returned below it into a gRPC status.
func (in *interceptors) mapErrors(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	resp, err := next(ctx, req)
	if err == nil {
		return resp, nil
	}
	st := toStatus(err)
	if st.Code() == codes.Internal {
		in.log.ErrorContext(ctx, "grpc internal error", "method", info.FullMethod, "err", err)
	}
	return nil, st.Err()
}

// recoverUnary turns a panic in a handler into an internal error.
func (in *interceptors) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			in.log.ErrorContext(ctx, "grpc handler panic", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, app.Errorf(app.EInternal, "internal error")
		}
	}()
	return next(ctx, req)
}

// recoverStream turns a panic in a streaming handler (health Watch,
// reflection) into an internal error.
func (in *interceptors) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			in.log.ErrorContext(ss.Context(), "grpc stream panic", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return next(srv, ss)
}

// authorize checks a House call against the policy and puts the caller
// into the context. Unknown methods of the House service are refused: a
// method missing from operations is a wiring mistake.
func (in *interceptors) authorize(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	op, ok := operations[info.FullMethod]
	if !ok {
		if strings.HasPrefix(info.FullMethod, "/"+ServiceName+"/") {
			return nil, app.Errorf(app.EInternal, "method %s has no access policy", info.FullMethod)
		}
		return next(ctx, req)
	}
	caller, err := in.auth.Authorize(op, auth.Credentials{Bearer: bearer(ctx)})
	if err != nil {
		return nil, err
	}
	return next(context.WithValue(ctx, callerKey{}, caller), req)
}

// bearer returns the token of the "authorization: Bearer T" metadata.
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if t := jwtauth.BearerToken(v); t != "" {
			return t
		}
	}
	return ""
}

// grpcCodes maps app error codes to gRPC codes.
var grpcCodes = map[string]codes.Code{
	app.ECanceled:           codes.Canceled,
	app.EInvalidArgument:    codes.InvalidArgument,
	app.ENotFound:           codes.NotFound,
	app.EAlreadyExists:      codes.AlreadyExists,
	app.EPermissionDenied:   codes.PermissionDenied,
	app.EUnauthenticated:    codes.Unauthenticated,
	app.EFailedPrecondition: codes.FailedPrecondition,
	app.EAborted:            codes.Aborted,
	app.EResourceExhausted:  codes.ResourceExhausted,
	app.EUnavailable:        codes.Unavailable,
	app.EInternal:           codes.Internal,
}

// toStatus is the one place errors become gRPC statuses. A status error
// passes through; a bare context error keeps its meaning; anything else is
// mapped by its app code with its caller-safe message; a limit's refusal
// (*app.LimitError) carries its wait as RetryInfo.
func toStatus(err error) *status.Status {
	if !errors.As(err, new(*app.Error)) {
		st, ok := status.FromError(err)
		switch {
		case ok:
			return st
		case errors.Is(err, context.Canceled):
			return status.New(codes.Canceled, "request canceled")
		case errors.Is(err, context.DeadlineExceeded):
			return status.New(codes.DeadlineExceeded, "deadline exceeded")
		}
	}
	code, ok := grpcCodes[app.ErrorCode(err)]
	if !ok {
		code = codes.Internal
	}
	st := status.New(code, app.ErrorMessage(err))
	var le *app.LimitError
	if errors.As(err, &le) && le.RetryAfter > 0 {
		if withRetry, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(le.RetryAfter)}); err == nil {
			st = withRetry
		}
	}
	return st
}

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
