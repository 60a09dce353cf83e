package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app/httpapi/reqbody"
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
			var dst reqbody.Reserve
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
		var dst reqbody.Reserve
		if err := decodeJSON(c, DefaultMaxBodyBytes, &dst, false); err != nil {
			b.Fatal(err)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
