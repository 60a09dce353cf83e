package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app/httpapi"
	"github.com/houseview/gateway/web"
)

// TestMountWeb serves the test page from the embedded files.
func TestMountWeb(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	httpapi.MountWeb(e, web.Files)
	srv := httptest.NewServer(e)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type answer struct {
		Status      int
		ContentType string
		Location    string
		CORS        string
	}
	tests := []struct {
		path     string
		want     answer
		contains []string
	}{
		{"/", answer{Status: 302, ContentType: "text/html; charset=utf-8", Location: "/web/"}, nil},
		{"/web", answer{Status: 301, ContentType: "text/html; charset=utf-8", Location: "/web/"}, nil},
		{"/web/", answer{Status: 200, ContentType: "text/html; charset=utf-8"},
			[]string{`<script type="module" src="app.js"></script>`, `<link rel="stylesheet" href="style.css">`, "预约看房"}},
		{"/web/index.html", answer{Status: 200, ContentType: "text/html; charset=utf-8"}, []string{`<script type="module" src="app.js"></script>`}},
		{"/web/app.js", answer{Status: 200, ContentType: "text/javascript; charset=utf-8"},
			[]string{"import { connect, CLOSE_CODES } from './gateway-client.js';", "/house/reserve", "/house/personal-recommend", "/api/messages"}},
		{"/web/style.css", answer{Status: 200, ContentType: "text/css; charset=utf-8"}, []string{"Noto Sans CJK SC"}},
		{"/web/gateway-client.js", answer{Status: 200, ContentType: "text/javascript; charset=utf-8", CORS: "*"},
			[]string{"export function connect(", "action: 'ping'", "gateway:pos:"}},
		{"/web/gateway-client.d.ts", answer{Status: 200, ContentType: "application/typescript; charset=utf-8", CORS: "*"},
			[]string{"export function connect(options: ConnectOptions): GatewayClient;", "pongTimeout?: number;"}},
		{"/web/web.go", answer{Status: 404, ContentType: "application/json; charset=utf-8"}, []string{`"not_found"`}},
		{"/web/nope/", answer{Status: 404, ContentType: "application/json; charset=utf-8"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := client.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			got := answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Location: resp.Header.Get("Location"),
				CORS: resp.Header.Get("Access-Control-Allow-Origin")}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
			}
			for _, s := range tt.contains {
				if !strings.Contains(string(body), s) {
					t.Errorf("GET %s: body does not contain %q", tt.path, s)
				}
			}
		})
	}
}

// TestWebValidators: the client and the page carry an ETag, a request
// with it gets 304 without a body, and HEAD answers the headers of GET.
func TestWebValidators(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	httpapi.MountWeb(e, web.Files)
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, path := range []string{"/web/gateway-client.js", "/web/"} {
		get, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(get.Body)
		get.Body.Close()
		etag := get.Header.Get("ETag")
		if get.StatusCode != 200 || len(etag) < 10 || !strings.HasPrefix(etag, `"`) {
			t.Fatalf("GET %s: %d, ETag %q; want 200 with a quoted ETag", path, get.StatusCode, etag)
		}

		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("If-None-Match", etag)
		again, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(again.Body)
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified || len(rest) != 0 {
			t.Errorf("GET %s with If-None-Match: %d and %d bytes, want 304 and none", path, again.StatusCode, len(rest))
		}

		head, err := http.Head(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		head.Body.Close()
		if head.StatusCode != 200 || head.Header.Get("ETag") != etag || head.ContentLength != int64(len(body)) {
			t.Errorf("HEAD %s: %d, ETag %q, length %d; want 200, %q, %d", path, head.StatusCode, head.Header.Get("ETag"), head.ContentLength, etag, len(body))
		}
	}
}
