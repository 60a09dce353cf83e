package reqbody_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httpapi/reqbody"
)

func TestDecodeRefusesInvalidUTF8NamingTheField(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // the error message, "" for none
	}{
		{"valid", `{"user_name":"张三","house_id":3001}`, ""},
		{"escaped replacement character", `{"user_name":"\ufffd"}`, ""},
		{"value", "{\"user_id\":1,\"user_name\":\"\xe5\xbc\xa0\xff\"}", "user_name is not valid UTF-8"},
		{"overlong encoding", "{\"reason\":\"\xc0\xaf\"}", "reason is not valid UTF-8"},
		{"surrogate half", "{\"house_title\":\"\xed\xa0\x80\"}", "house_title is not valid UTF-8"},
		{"truncated at the end", "{\"reason\":\"\xe5\xbc\"}", "reason is not valid UTF-8"},
		{"nested value", "{\"detail\":{\"a\":[1,{\"note\":\"x\xfe\"}]}}", "detail.a[1].note is not valid UTF-8"},
		{"array element", "{\"tags\":[\"ok\",\"\xff\"]}", "tags[1] is not valid UTF-8"},
		{"after an array", "{\"user_ids\":[1,2],\"title\":\"\xff\"}", "title is not valid UTF-8"},
		{"field name", "{\"user\xff\":1}", "a field name in request body is not valid UTF-8"},
		{"nested field name", "{\"detail\":{\"\xff\":1}}", "a field name in detail is not valid UTF-8"},
		{"top-level string", "\"\xff\"", "request body is not valid UTF-8"},
		{"outside a string", "{\"user_id\":1\xff}", "request body is not valid UTF-8 (byte 12)"},
		{"broken JSON before it", "{\"a\":,\"b\":\"\xff\"}", "request body is not valid UTF-8 (byte 11)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst map[string]any
			err := reqbody.Decode([]byte(tt.body), &dst, false)
			if err != nil && app.ErrorCode(err) != app.EInvalidArgument {
				t.Errorf("code %q, want %q", app.ErrorCode(err), app.EInvalidArgument)
			}
			if diff := cmp.Diff(tt.want, app.ErrorMessage(err)); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}
