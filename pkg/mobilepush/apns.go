package mobilepush

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/payload"
	"github.com/sideshow/apns2/token"
)

// APNsConfig configures an APNs provider with token-based (.p8) auth.
type APNsConfig struct {
	// AuthKey is the .p8 file's content (a PKCS#8 PEM P-256 key).
	AuthKey []byte
	// KeyID is the key's ID, TeamID the Apple developer team's.
	KeyID, TeamID string
	// Topic is the app's bundle ID (apns-topic).
	Topic string
	// Production picks api.push.apple.com; otherwise the sandbox.
	Production bool
	// Host overrides the APNs base URL ("https://host:port").
	Host string
	// HTTPClient overrides apns2's HTTP/2 client; it must speak HTTP/2.
	HTTPClient *http.Client
}

// APNs sends through Apple's HTTP/2 provider API with apns2.
type APNs struct {
	client *apns2.Client
	topic  string
}

// NewAPNs checks the key, signs a first provider token and returns an APNs
// provider. No connection is made until the first Send.
func NewAPNs(cfg APNsConfig) (*APNs, error) {
	if cfg.KeyID == "" || cfg.TeamID == "" || cfg.Topic == "" {
		return nil, errors.New("mobilepush: apns: key ID, team ID and topic are required")
	}
	key, err := token.AuthKeyFromBytes(cfg.AuthKey)
	if err != nil {
		return nil, errors.New("mobilepush: apns: auth key: " + err.Error())
	}
	tok := &token.Token{AuthKey: key, KeyID: cfg.KeyID, TeamID: cfg.TeamID}
	if _, err := tok.Generate(); err != nil {
		return nil, errors.New("mobilepush: apns: provider token: " + err.Error())
	}
	c := apns2.NewTokenClient(tok).Development()
	if cfg.Production {
		c.Production()
	}
	if cfg.Host != "" {
		c.Host = strings.TrimSuffix(cfg.Host, "/")
	}
	hc := *c.HTTPClient
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	hc.Transport = &apnsRecorder{base: hc.Transport}
	c.HTTPClient = &hc
	return &APNs{client: c, topic: cfg.Topic}, nil
}

// Name returns "apns".
func (a *APNs) Name() string { return "apns" }

// Send posts m to /3/device/{token}.
func (a *APNs) Send(ctx context.Context, m Message) error {
	if err := checkMessage("apns", m); err != nil {
		return err
	}
	if _, err := hex.DecodeString(m.Token); err != nil {
		return &Error{Kind: DeadToken, Provider: "apns", Reason: apns2.ReasonBadDeviceToken, Message: "device token is not hex"}
	}
	p := payload.NewPayload().AlertTitle(m.Title).AlertBody(m.Body)
	if m.Badge != nil {
		p.Badge(*m.Badge)
	}
	for k, v := range m.Data {
		if k == "aps" {
			return &Error{Kind: Permanent, Provider: "apns", Reason: "reserved_key", Message: `data key "aps" is reserved`}
		}
		p.Custom(k, v)
	}
	n := &apns2.Notification{
		DeviceToken: m.Token, Topic: a.topic, CollapseID: m.CollapseKey,
		Payload: p, PushType: apns2.PushTypeAlert, Priority: apns2.PriorityHigh,
	}
	seen := &apnsSeen{}
	res, err := a.client.PushWithContext(context.WithValue(ctx, apnsSeenKey{}, seen), n)
	if err != nil && seen.status == 0 {
		return &Error{Kind: Retry, Provider: "apns", Err: err}
	}
	if err != nil { // an answer whose body is not APNs's JSON
		res = &apns2.Response{StatusCode: seen.status}
	}
	if res.Sent() {
		return nil
	}
	e := &Error{Provider: "apns", Status: res.StatusCode, Reason: res.Reason, Err: err}
	e.Kind = apnsKind(res.StatusCode, res.Reason)
	if e.Kind == Retry {
		e.RetryAfter = parseRetryAfter(seen.retryAfter, time.Now())
	}
	return e
}

// apnsKind maps an APNs status and reason to a Kind.
func apnsKind(status int, reason string) Kind {
	switch reason {
	case apns2.ReasonUnregistered, apns2.ReasonExpiredToken,
		apns2.ReasonBadDeviceToken, apns2.ReasonDeviceTokenNotForTopic:
		return DeadToken
	case apns2.ReasonTooManyRequests, apns2.ReasonTooManyProviderTokenUpdates,
		apns2.ReasonInternalServerError, apns2.ReasonServiceUnavailable, apns2.ReasonShutdown:
		return Retry
	}
	if status == http.StatusGone {
		return DeadToken
	}
	return statusKind(status)
}

// apnsSeen is what apnsRecorder keeps of one answer: apns2's Response has
// no Retry-After, and no status when the body is not JSON.
type apnsSeen struct {
	status     int
	retryAfter string
}

type apnsSeenKey struct{}

// apnsRecorder is a RoundTripper that fills the request context's *apnsSeen.
type apnsRecorder struct{ base http.RoundTripper }

// RoundTrip sends r with the base transport and records the answer.
func (t *apnsRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if s, ok := r.Context().Value(apnsSeenKey{}).(*apnsSeen); ok && resp != nil {
		s.status, s.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	}
	return resp, err
}

// CloseIdleConnections closes the base transport's idle connections.
func (t *apnsRecorder) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
