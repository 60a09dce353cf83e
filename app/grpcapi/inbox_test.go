package grpcapi_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	"github.com/houseview/gateway/app/redis"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

func publishTo(t *testing.T, env *apptest.Env, user int64, n int) {
	t.Helper()
	for i := range n {
		note := app.Notification{ID: app.NewMessageID(), UserID: user, Type: app.MsgGenericPush, Title: "t", Content: fmt.Sprintf("m%d", i+1)}
		m, err := note.Message()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Publisher.Publish(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInbox: MarkInbox, InboxCounts and ListInbox on the same inbox as the
// REST routes, their errors, and the policy: a user's token reaches only
// its own inbox, the API key any user's.
func TestInbox(t *testing.T) {
	env := apptest.MustEnv(t)
	inbox := redis.NewInbox(redis.New(env.Redis, env.Keys))
	c := mustServe(t, env.Service, grpcapi.Options{Auth: apptest.NewAuth(app.AuthJWT, secret, deviceKey), Inbox: inbox}).client
	publishTo(t, env, tenant, 4)
	own := as(t, mustToken(t, secret, tenant))
	m, err := c.MarkInbox(own, &housev1.MarkInboxRequest{State: "read", Seq: proto.Int64(2)})
	if err != nil || m.GetUnseen() != 3 || m.GetUnread() != 3 || !m.GetChanged() {
		t.Fatalf("MarkInbox: %v, %v", m, err)
	}
	if _, err := c.MarkInbox(own, &housev1.MarkInboxRequest{State: "archived", UpTo: proto.Int64(1), Epoch: m.GetEpoch()}); err != nil {
		t.Fatal(err)
	}
	counts, err := c.InboxCounts(own, &housev1.InboxCountsRequest{})
	if err != nil || counts.GetUnseen() != 2 || counts.GetUnread() != 2 {
		t.Fatalf("InboxCounts: %v, %v", counts, err)
	}
	list, err := c.ListInbox(own, &housev1.ListInboxRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, msg := range list.GetMessages() {
		got = append(got, fmt.Sprintf("%d %s %t%t%t", msg.GetSeq(), msg.GetContent(), msg.GetSeen(), msg.GetRead(), msg.GetArchived()))
	}
	if diff := cmp.Diff([]string{"4 m4 falsefalsefalse", "3 m3 falsefalsefalse"}, got); diff != "" || list.GetNextCursor() == "" {
		t.Errorf("first page (-want +got):\n%s", diff)
	}
	list, err = c.ListInbox(own, &housev1.ListInboxRequest{Before: list.GetNextCursor()})
	if err != nil || len(list.GetMessages()) != 1 || list.GetMessages()[0].GetSeq() != 2 || !list.GetMessages()[0].GetRead() ||
		list.GetMessages()[0].GetTs() == 0 || list.GetNextCursor() != "" {
		t.Errorf("second page: %v, %v", list, err)
	}
	archived, err := c.ListInbox(own, &housev1.ListInboxRequest{State: "archived", Type: 6})
	if err != nil || len(archived.GetMessages()) != 1 || archived.GetMessages()[0].GetSeq() != 1 {
		t.Errorf("archived: %v, %v", archived, err)
	}
	key := as(t, deviceKey)
	for _, tc := range []struct {
		name string
		err  error
		want codes.Code
	}{
		{"bad state", call(c.MarkInbox(own, &housev1.MarkInboxRequest{State: "opened", All: true})), codes.InvalidArgument},
		{"none of seq, up_to, all", call(c.MarkInbox(own, &housev1.MarkInboxRequest{State: "read"})), codes.InvalidArgument},
		{"two of them", call(c.MarkInbox(own, &housev1.MarkInboxRequest{State: "read", Seq: proto.Int64(1), All: true})), codes.InvalidArgument},
		{"seq 0", call(c.MarkInbox(own, &housev1.MarkInboxRequest{State: "read", Seq: proto.Int64(0)})), codes.InvalidArgument},
		{"not stored", call(c.MarkInbox(own, &housev1.MarkInboxRequest{State: "read", Seq: proto.Int64(9)})), codes.NotFound},
		{"stale epoch", call(c.MarkInbox(own, &housev1.MarkInboxRequest{State: "read", Seq: proto.Int64(1), Epoch: "gone"})), codes.FailedPrecondition},
		{"bad filter", call(c.ListInbox(own, &housev1.ListInboxRequest{State: "new"})), codes.InvalidArgument},
		{"bad type", call(c.ListInbox(own, &housev1.ListInboxRequest{Type: 9})), codes.InvalidArgument},
		{"bad cursor", call(c.ListInbox(own, &housev1.ListInboxRequest{Before: "x"})), codes.InvalidArgument},
		{"no token", call(c.InboxCounts(t.Context(), &housev1.InboxCountsRequest{})), codes.Unauthenticated},
		{"another user's", call(c.InboxCounts(own, &housev1.InboxCountsRequest{UserId: tenant + 1})), codes.PermissionDenied},
		{"another user's mark", call(c.MarkInbox(own, &housev1.MarkInboxRequest{UserId: tenant + 1, State: "read", All: true})), codes.PermissionDenied},
		{"key without a user", call(c.InboxCounts(key, &housev1.InboxCountsRequest{})), codes.InvalidArgument},
		{"key for any user", call(c.InboxCounts(key, &housev1.InboxCountsRequest{UserId: tenant})), codes.OK},
		{"key marks any user's", call(c.MarkInbox(key, &housev1.MarkInboxRequest{UserId: tenant, State: "seen", All: true})), codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.want) })
	}
	off := mustServe(t, env.Service, grpcapi.Options{Auth: apptest.NewAuth(app.AuthInsecure, secret, "")}).client
	_, err = off.InboxCounts(t.Context(), &housev1.InboxCountsRequest{UserId: tenant})
	wantCode(t, err, codes.Unavailable)
}

func call[T any](_ T, err error) error { return err }
