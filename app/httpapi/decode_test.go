package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
)

// decodeBody runs decodeJSON on body as a gin handler would, with the
// body limit the router sets.
func decodeBody(body []byte, dst any, allowEmpty bool) error {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	c.Request.Body = http.MaxBytesReader(w, c.Request.Body, DefaultMaxBodyBytes)
	return decodeJSON(c, DefaultMaxBodyBytes, dst, allowEmpty)
}

func TestDecodeJSONRefusesInvalidUTF8NamingTheField(t *testing.T) {
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
			err := decodeBody([]byte(tt.body), &dst, false)
			if err != nil && app.ErrorCode(err) != app.EInvalidArgument {
				t.Errorf("code %q, want %q", app.ErrorCode(err), app.EInvalidArgument)
			}
			if diff := cmp.Diff(tt.want, app.ErrorMessage(err)); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	type out struct {
		Status  int
		Message string
	}
	tests := []struct {
		name       string
		body       string
		allowEmpty bool
		want       out
	}{
		{"empty refused", "", false, out{400, "request body is required"}},
		{"empty allowed", " \n", true, out{}},
		{"wrong type", `{"user_id":"1001"}`, false, out{400, "user_id must be a JSON integer, got string"}},
		{"not an object", `[1]`, false, out{400, "request body must be a JSON object, got array"}},
		{"not JSON", `{"user_id":`, false, out{400, "request body is not valid JSON"}},
		{"too large", `{"user_name":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`, false, out{413, "request body exceeds 65536 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst reserveBody
			err := decodeBody([]byte(tt.body), &dst, tt.allowEmpty)
			var got out
			if err != nil {
				status, _, msg := httperr.Classify(err)
				got = out{status, msg}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkDecodeJSON measures the body decoding of the hot path
// (POST /house/reserve), the UTF-8 check included.
func BenchmarkDecodeJSON(b *testing.B) {
	body := []byte(`{"landlord_id":2001,"user_id":1001,"user_name":"张三","house_id":3001,"house_title":"精装修两室一厅","reserve_time":"2026-12-22 14:00:00"}`)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = readCloser{bytes.NewReader(body)}
		c.Request = r
		var dst reserveBody
		if err := decodeJSON(c, DefaultMaxBodyBytes, &dst, false); err != nil {
			b.Fatal(err)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
