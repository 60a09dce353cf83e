package settings

import (
	"net/http"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/devicepush"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/mobilepush"
)

// PushEnabled reports whether a push provider is configured: its
// credential is set.
func (c *Config) PushEnabled() bool {
	p := c.Push
	return p.FCM.Credentials != "" || p.APNs.Key != "" || p.JPush.AppKey != "" || p.JPush.MasterSecret != ""
}

// PushProviders returns the configured push providers by platform (none:
// an empty map). A provider whose settings are refused is a keyError
// naming the setting to fix. No request is made.
func (c *Config) PushProviders() (devicepush.Providers, error) {
	p := c.Push
	out := devicepush.Providers{}
	client := &http.Client{Timeout: p.Timeout}
	if p.FCM.Credentials != "" {
		f, err := mobilepush.NewFCM(mobilepush.FCMConfig{ServiceAccountJSON: []byte(p.FCM.Credentials), ProjectID: p.FCM.ProjectID,
			TokenURL: p.FCM.TokenURL, BaseURL: p.FCM.Endpoint, HTTPClient: client})
		if err != nil {
			return nil, keyError{"push.fcm.credentials", err}
		}
		out[app.PlatformFCM] = f
	}
	if p.APNs.Key != "" {
		a, err := mobilepush.NewAPNs(mobilepush.APNsConfig{AuthKey: []byte(p.APNs.Key), KeyID: p.APNs.KeyID, TeamID: p.APNs.TeamID,
			Topic: p.APNs.Topic, Production: p.APNs.Environment == "production", Host: p.APNs.Endpoint})
		if err != nil {
			return nil, keyError{apnsKey(p.APNs), err}
		}
		out[app.PlatformAPNs] = a
	}
	if p.JPush.AppKey != "" || p.JPush.MasterSecret != "" {
		j, err := mobilepush.NewJPush(mobilepush.JPushConfig{AppKey: p.JPush.AppKey, MasterSecret: p.JPush.MasterSecret,
			BaseURL: p.JPush.Endpoint, APNsProduction: p.JPush.Production, HTTPClient: client})
		if err != nil {
			key := "push.jpush.master_secret"
			if p.JPush.AppKey == "" {
				key = "push.jpush.app_key"
			}
			return nil, keyError{key, err}
		}
		out[app.PlatformJPush] = j
	}
	return out, nil
}

// apnsKey is the APNs setting a refusal of NewAPNs names: the first
// identifier missing, else the key.
func apnsKey(a APNsPushConfig) string {
	switch {
	case a.KeyID == "":
		return "push.apns.key_id"
	case a.TeamID == "":
		return "push.apns.team_id"
	case a.Topic == "":
		return "push.apns.topic"
	}
	return "push.apns.key"
}

// validatePush checks the device push settings when a provider is
// configured: each provider's credentials load (a bad key stops start-up
// naming its setting), the queue is its own and this node's worker serves
// it.
func (c *Config) validatePush(p *config.Problems) {
	q := c.Push.Queue
	if p.OK("push.queue", "reminder.queue", "webhook.queue") && (q == c.Reminder.Queue || q == c.Webhook.Queue) {
		p.Add("push.queue", "must differ from reminder.queue %q and webhook.queue %q: device push tasks have their own queue",
			c.Reminder.Queue, c.Webhook.Queue)
	}
	if !c.PushEnabled() {
		return
	}
	keys := []string{"push.fcm.credentials", "push.fcm.project_id", "push.fcm.endpoint", "push.fcm.token_url", "push.timeout",
		"push.apns.key", "push.apns.key_id", "push.apns.team_id", "push.apns.topic", "push.apns.environment", "push.apns.endpoint",
		"push.jpush.app_key", "push.jpush.master_secret", "push.jpush.endpoint"}
	if p.OK(keys...) {
		if _, err := c.PushProviders(); err != nil {
			ke := err.(keyError)
			p.Add(ke.key, "%v", ke.err)
		}
	}
	if p.OK("push.types") && len(c.Push.Types) == 0 {
		p.Add("push.types", "lists no type, so nothing would be pushed: list some, or configure no provider")
	}
	if p.OK("worker.enabled", "worker.queues", "push.queue") && c.Worker.Enabled && c.Worker.Queues[q] == 0 {
		p.Add("worker.queues", "must include push.queue %q, or this node's worker never pushes to devices", q)
	}
	if p.OK("push.backoff", "push.max_backoff") && c.Push.Backoff > c.Push.MaxBackoff {
		p.Add("push.backoff", "must not exceed push.max_backoff (%s)", c.Push.MaxBackoff)
	}
}
