package grpcapi_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
	"github.com/houseview/gateway/app/grpcapi"
	housev1 "github.com/houseview/gateway/proto/house/v1"
)

// rawCodec sends and receives messages as bytes already encoded, so a test
// can send what the Go protobuf runtime refuses to marshal.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }
func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// withBadBytes marshals m and replaces the bytes of marker (a string field's
// value) with bad, of the same length.
func withBadBytes(tb testing.TB, m proto.Message, marker, bad string) []byte {
	tb.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	if len(marker) != len(bad) || bytes.Count(b, []byte(marker)) != 1 {
		tb.Fatalf("marker %q must occur once and match %q in length", marker, bad)
	}
	return bytes.Replace(b, []byte(marker), []byte(bad), 1)
}

// TestInvalidUTF8IsInvalidArgument: a request whose string field holds
// invalid UTF-8 gets INVALID_ARGUMENT naming the field, one that is not
// protobuf at all INVALID_ARGUMENT too (the runtime alone answers INTERNAL
// for both), and the service sees nothing.
func TestInvalidUTF8IsInvalidArgument(t *testing.T) {
	env := apptest.MustEnv(t)
	ts := mustServe(t, env.Service, grpcapi.Options{Auth: apptest.NewAuth(app.AuthInsecure, nil, "")})
	at := env.ReserveTime(24 * time.Hour)
	tests := []struct {
		name   string
		method string
		body   []byte
		want   string
	}{
		{"user_name", housev1.House_ReserveHouse_FullMethodName, withBadBytes(t, &housev1.ReserveHouseRequest{
			UserId: tenant, UserName: "XXXX", HouseId: house, ReserveTime: at}, "XXXX", "张\xff"),
			"code = InvalidArgument desc = user_name is not valid UTF-8"},
		{"house_title", housev1.House_ReserveHouse_FullMethodName, withBadBytes(t, &housev1.ReserveHouseRequest{
			UserId: tenant, UserName: "张三", HouseId: house, HouseTitle: "XX", ReserveTime: at}, "XX", "\xc0\xaf"),
			"code = InvalidArgument desc = house_title is not valid UTF-8"},
		{"reason", housev1.House_CancelReservation_FullMethodName, withBadBytes(t, &housev1.CancelReservationRequest{
			ReservationId: 1, UserId: tenant, Reason: "XXX"}, "XXX", "\xed\xa0\x80"),
			"code = InvalidArgument desc = reason is not valid UTF-8"},
		{"push title", housev1.House_Push_FullMethodName, withBadBytes(t, &housev1.PushRequest{
			UserIds: []int64{1}, Title: "XX", Content: "c"}, "XX", "\xff\xfe"),
			"code = InvalidArgument desc = title is not valid UTF-8"},
		{"malformed wire data", housev1.House_ReserveHouse_FullMethodName, []byte{0x12, 0x05, 'a'},
			"code = InvalidArgument desc = request is not a valid house.v1.ReserveHouseRequest message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reply []byte
			err := ts.conn.Invoke(t.Context(), tt.method, tt.body, &reply, grpc.ForceCodecV2(rawCodec{}))
			got := ""
			if st, ok := status.FromError(err); ok && err != nil {
				got = "code = " + st.Code().String() + " desc = " + st.Message()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if n := len(env.Messages(t, landlord)); n != 0 {
		t.Errorf("landlord has %d messages, want 0", n)
	}
}

// TestTextRulesOverGRPC: the service's character rules answer
// INVALID_ARGUMENT with the same words over gRPC.
func TestTextRulesOverGRPC(t *testing.T) {
	env := apptest.MustEnv(t)
	ts := mustServe(t, env.Service, grpcapi.Options{Auth: apptest.NewAuth(app.AuthInsecure, nil, "")})
	_, err := ts.client.ReserveHouse(t.Context(), &housev1.ReserveHouseRequest{
		UserId: tenant, UserName: "\u202e三张", HouseId: house, ReserveTime: env.ReserveTime(24 * time.Hour)})
	st, _ := status.FromError(err)
	got := st.Code().String() + ": " + st.Message()
	if diff := cmp.Diff("InvalidArgument: user_name must not contain bidi control characters (U+202E at character 1)", got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
