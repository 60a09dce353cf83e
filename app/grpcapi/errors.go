package grpcapi

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/houseview/gateway/app"
)

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
	var ae *app.Error
	if st, ok := status.FromError(err); ok && !errors.As(err, &ae) {
		return st
	}
	if !errors.As(err, &ae) {
		switch {
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
