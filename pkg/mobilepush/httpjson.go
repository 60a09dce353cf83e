package mobilepush

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// maxReplyBody bounds how much of a provider's reply is read.
const maxReplyBody = 64 << 10

// DefaultTimeout bounds one request (and one token fetch) when the caller
// gives no *http.Client of its own.
const DefaultTimeout = 30 * time.Second

// clientOr returns c, or a client with DefaultTimeout when c is nil.
func clientOr(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultTimeout}
}

// reply is a provider's HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// postJSON POSTs body as JSON to url, with auth setting the credentials.
// A request that cannot be built is Permanent; one that gets no answer is
// Retry.
func postJSON(ctx context.Context, c *http.Client, provider, url string, body any, auth func(*http.Request)) (*reply, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, &Error{Kind: Permanent, Provider: provider, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, &Error{Kind: Permanent, Provider: provider, Err: err}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	auth(req)
	resp, err := c.Do(req)
	if err != nil {
		return nil, &Error{Kind: Retry, Provider: provider, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBody))
	if err != nil {
		return nil, &Error{Kind: Retry, Provider: provider, Status: resp.StatusCode, Err: err}
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: data}, nil
}
