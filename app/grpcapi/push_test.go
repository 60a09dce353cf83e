package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/push"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// apiKey is the server push key of the tests.
const apiKey = "grpc-push-test-api-key-0123456789"

// pushOptions are the options of a server in mode with server push on env
// (at most 3 user ids per request) under key.
func pushOptions(env *apptest.Env, mode app.AuthMode, key string) grpcapi.Options {
	opts := grpcapi.Options{Auth: apptest.NewAuth(mode, secret, key)}
	opts.Push = push.New(env.Publisher, push.Options{MaxBatch: 3})
	return opts
}

func TestPush(t *testing.T) {
	for _, mode := range []app.AuthMode{app.AuthInsecure, app.AuthJWT} {
		t.Run(string(mode), func(t *testing.T) {
			env := apptest.MustEnv(t)
			c := mustServe(t, env.Service, pushOptions(env, mode, apiKey)).client
			before := time.Now().Unix()
			reply, err := c.Push(as(t, apiKey), &housev1.PushRequest{
				UserIds: []int64{tenant, landlord, tenant}, Title: "系统通知", Content: "明天停水",
				DetailJson: `{"area":"朝阳"}`,
			})
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			after := time.Now().Unix()
			results := reply.GetResults()
			if len(results) != 2 {
				t.Fatalf("results %v, want one per distinct user", results)
			}
			for i, user := range []int64{tenant, landlord} {
				r := results[i]
				want := &housev1.PushResult{UserId: user, Seq: 1, Id: r.GetId(), Epoch: r.GetEpoch()}
				if diff := cmp.Diff(want, r, protocmp.Transform()); diff != "" || len(r.GetId()) != 32 || r.GetEpoch() == "" {
					t.Errorf("result %d (-want +got):\n%s (id %q)", i, diff, r.GetId())
				}
				msgs := env.Messages(t, user)
				wantMsgs := []app.Notification{{ID: r.GetId(), Seq: 1, Epoch: r.GetEpoch(), Type: app.MsgGenericPush, UserID: user,
					Title: "系统通知", Content: "明天停水", Detail: map[string]any{"area": "朝阳"}}}
				if len(msgs) == 1 && msgs[0].Timestamp >= before && msgs[0].Timestamp <= after {
					wantMsgs[0].Timestamp = msgs[0].Timestamp // sent during the call
				}
				if diff := cmp.Diff(wantMsgs, msgs); diff != "" {
					t.Errorf("user %d messages (-want +got):\n%s", user, diff)
				}
			}
			// Without detail_json the message has no detail.
			if _, err := c.Push(as(t, apiKey), &housev1.PushRequest{UserIds: []int64{tenant}, Title: "t"}); err != nil {
				t.Fatalf("Push without detail: %v", err)
			}
			if msgs := env.Messages(t, tenant); len(msgs) != 2 || msgs[1].Seq != 2 || msgs[1].Detail != nil {
				t.Errorf("tenant messages %+v, want a second one (seq 2) without detail", msgs)
			}
		})
	}
}

func TestPushRefusals(t *testing.T) {
	env := apptest.MustEnv(t)
	c := mustServe(t, env.Service, pushOptions(env, app.AuthJWT, apiKey)).client
	keyCtx := as(t, apiKey)
	userCtx := as(t, mustToken(t, secret, tenant))
	ok := func(edit func(r *housev1.PushRequest)) *housev1.PushRequest {
		r := &housev1.PushRequest{UserIds: []int64{tenant}, Title: "t", Content: "c"}
		edit(r)
		return r
	}
	tests := []struct {
		name string
		ctx  context.Context
		req  *housev1.PushRequest
		want codes.Code
	}{
		{"batch over limit", keyCtx, ok(func(r *housev1.PushRequest) { r.UserIds = []int64{1, 2, 3, 4} }), codes.InvalidArgument},
		{"empty ids", keyCtx, ok(func(r *housev1.PushRequest) { r.UserIds = nil }), codes.InvalidArgument},
		{"negative id", keyCtx, ok(func(r *housev1.PushRequest) { r.UserIds = []int64{tenant, -1} }), codes.InvalidArgument},
		{"detail array", keyCtx, ok(func(r *housev1.PushRequest) { r.DetailJson = `[1]` }), codes.InvalidArgument},
		{"detail not json", keyCtx, ok(func(r *housev1.PushRequest) { r.DetailJson = `{` }), codes.InvalidArgument},
		{"missing title", keyCtx, ok(func(r *housev1.PushRequest) { r.Title = "" }), codes.InvalidArgument},
		{"no api key", t.Context(), ok(func(*housev1.PushRequest) {}), codes.Unauthenticated},
		{"wrong api key", as(t, apiKey+"x"), ok(func(*housev1.PushRequest) {}), codes.Unauthenticated},
		{"not bearer", metadata.AppendToOutgoingContext(t.Context(), "authorization", "Basic "+apiKey), ok(func(*housev1.PushRequest) {}), codes.Unauthenticated},
		{"user jwt", userCtx, ok(func(*housev1.PushRequest) {}), codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Push(tt.ctx, tt.req)
			wantCode(t, err, tt.want)
		})
	}
	for _, user := range []int64{tenant, 1, 2, 3} {
		if msgs := env.Messages(t, user); len(msgs) != 0 {
			t.Errorf("refused pushes stored %d messages for user %d", len(msgs), user)
		}
	}
	// The API key is no user token: other methods refuse it in jwt mode.
	_, err := c.ListReservations(keyCtx, &housev1.ListReservationsRequest{UserId: tenant})
	wantCode(t, err, codes.Unauthenticated)
}

func TestPushDisabled(t *testing.T) {
	env := apptest.MustEnv(t)
	req := &housev1.PushRequest{UserIds: []int64{tenant}, Title: "t"}
	for _, mode := range []app.AuthMode{app.AuthInsecure, app.AuthJWT} {
		c := mustServe(t, env.Service, pushOptions(env, mode, "")).client
		for _, ctx := range []context.Context{t.Context(), as(t, apiKey)} {
			_, err := c.Push(ctx, req)
			want := status.New(codes.PermissionDenied, "no api_key is configured: this operation is closed")
			if diff := cmp.Diff(want.Proto(), status.Convert(err).Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("%s mode (-want +got):\n%s", mode, diff)
			}
		}
	}
	opts := pushOptions(env, app.AuthInsecure, apiKey)
	opts.Push = nil
	_, err := mustServe(t, env.Service, opts).client.Push(as(t, apiKey), req)
	wantCode(t, err, codes.Unavailable)
	if msgs := env.Messages(t, tenant); len(msgs) != 0 {
		t.Errorf("disabled push stored %d messages", len(msgs))
	}
}
