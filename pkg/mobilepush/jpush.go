package mobilepush

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// JPushBaseURL is the default JPush API base URL.
const JPushBaseURL = "https://api.jpush.cn"

// JPushConfig configures a JPush provider.
type JPushConfig struct {
	// AppKey and MasterSecret are the app's API credentials (basic auth).
	AppKey, MasterSecret string
	// BaseURL overrides JPushBaseURL.
	BaseURL string
	// APNsProduction sets options.apns_production for iOS devices.
	APNsProduction bool
	// HTTPClient overrides a client with DefaultTimeout.
	HTTPClient *http.Client
}

// JPush sends through JPush's REST v3 push API, written on net/http.
type JPush struct {
	cfg    JPushConfig
	client *http.Client
	url    string
}

// NewJPush returns a JPush provider. No request is made until Send.
func NewJPush(cfg JPushConfig) (*JPush, error) {
	if cfg.AppKey == "" || cfg.MasterSecret == "" {
		return nil, errors.New("mobilepush: jpush: app key and master secret are required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = JPushBaseURL
	}
	return &JPush{cfg: cfg, client: clientOr(cfg.HTTPClient), url: strings.TrimSuffix(base, "/") + "/v3/push"}, nil
}

// Name returns "jpush".
func (j *JPush) Name() string { return "jpush" }

// Send posts m to /v3/push for the one registration ID m.Token.
func (j *JPush) Send(ctx context.Context, m Message) error {
	if err := checkMessage("jpush", m); err != nil {
		return err
	}
	rep, err := postJSON(ctx, j.client, "jpush", j.url, jpushBody(m, j.cfg.APNsProduction), func(r *http.Request) {
		r.SetBasicAuth(j.cfg.AppKey, j.cfg.MasterSecret)
	})
	if err != nil {
		return err
	}
	var b struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rep.body, &b) // a body that is not JPush's leaves the status alone
	if rep.status/100 == 2 && b.Error.Code == 0 {
		return nil
	}
	e := &Error{Provider: "jpush", Status: rep.status, Message: b.Error.Message}
	if b.Error.Code != 0 {
		e.Reason = strconv.Itoa(b.Error.Code)
	}
	e.Kind = jpushKind(rep.status, b.Error.Code)
	if e.Kind == Retry {
		e.RetryAfter = jpushRetryAfter(rep)
	}
	return e
}

// JPush's documented error codes that this package acts on.
const (
	jpushSystemError    = 1000 // internal error (HTTP 500)
	jpushAuthFailed     = 1004 // bad app key or master secret (HTTP 401)
	jpushNoTarget       = 1011 // no device for this audience, or inactive > 255 days
	jpushServiceTimeout = 1030 // internal service timeout (HTTP 503)
	jpushRateLimited    = 2001 // rate limit exceeded (HTTP 429), older docs
	jpushRateLimitedNew = 2002 // API call rate over the app's limit (HTTP 429)
)

// jpushKind maps a JPush status and error code to a Kind.
func jpushKind(status, code int) Kind {
	switch code {
	case jpushNoTarget:
		return DeadToken
	case jpushSystemError, jpushServiceTimeout, jpushRateLimited, jpushRateLimitedNew:
		return Retry
	case jpushAuthFailed:
		return Permanent
	}
	if status/100 == 2 { // an error code in a 2xx answer
		return Permanent
	}
	return statusKind(status)
}

// jpushRetryAfter reads Retry-After, or on a 429 JPush's
// X-Rate-Limit-Reset (seconds until the rate window resets).
func jpushRetryAfter(rep *reply) time.Duration {
	if d := parseRetryAfter(rep.header.Get("Retry-After"), time.Now()); d > 0 {
		return d
	}
	if rep.status == http.StatusTooManyRequests {
		return parseRetryAfter(rep.header.Get("X-Rate-Limit-Reset"), time.Now())
	}
	return 0
}
