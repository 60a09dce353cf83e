package grpcapi

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/push"
	"github.com/houseview/gateway/pkg/jwtauth"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// publicMethods need no token.
var publicMethods = map[string]bool{
	housev1.House_RecommendList_FullMethodName:         true,
	housev1.House_PersonalRecommendList_FullMethodName: true,
}

type interceptors struct {
	mode    app.AuthMode
	verify  func(token string) (int64, error)
	apiKey  string
	log     *slog.Logger
	metrics Metrics
}

type userKey struct{}

// tokenUser returns the authenticated caller, 0 when there is none.
func tokenUser(ctx context.Context) int64 {
	user, _ := ctx.Value(userKey{}).(int64)
	return user
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

// auth puts the bearer token's user into the context. In jwt mode the
// House methods that are not public need a valid token; a token sent to a
// public method must be valid too. Other services (health) are open, and
// insecure mode ignores tokens. Push needs the API key in both modes
// (push.CheckAPIKey) and never a user token.
func (in *interceptors) auth(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if info.FullMethod == housev1.House_Push_FullMethodName {
		if err := push.CheckAPIKey(in.apiKey, bearer(ctx)); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
	if in.mode != app.AuthJWT || !strings.HasPrefix(info.FullMethod, "/"+ServiceName+"/") {
		return next(ctx, req)
	}
	token := bearer(ctx)
	if token == "" {
		if publicMethods[info.FullMethod] {
			return next(ctx, req)
		}
		return nil, app.Errorf(app.EUnauthenticated, "missing bearer token")
	}
	user, err := in.verify(token)
	if err != nil || user <= 0 {
		return nil, app.Errorf(app.EUnauthenticated, "invalid bearer token")
	}
	return next(context.WithValue(ctx, userKey{}, user), req)
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
