package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// validate checks the rules that no tag expresses, most of them between
// settings, on the values that parsed, and fills in the host name as the
// default node id.
func (c *Config) validate(p *problems) {
	if p.ok("worker.enabled", "worker.queues", "reminder.queue") && c.Worker.Enabled && c.Worker.Queues[c.Reminder.Queue] == 0 {
		p.add("worker.queues", "must include reminder.queue %q, or this node's worker never runs reminders", c.Reminder.Queue)
	}
	c.validateWebhook(p)
	if p.ok("api.enabled", "worker.enabled") && !c.API.Enabled && !c.Worker.Enabled {
		p.add("api.enabled", "api and worker are both disabled: the node would do nothing")
	}
	if p.ok("reminder.leads") && len(c.Reminder.Leads) == 0 {
		p.add("reminder.leads", "needs at least one lead time")
	}
	if p.ok("ws.ping_period", "ws.pong_wait") && c.WS.PingPeriod >= c.WS.PongWait {
		p.add("ws.ping_period", "must be shorter than ws.pong_wait (%s)", c.WS.PongWait)
	}
	if p.ok("presence.ttl", "presence.heartbeat") && c.Presence.TTL <= 2*c.Presence.Heartbeat {
		p.add("presence.ttl", "must be more than twice presence.heartbeat (%s)", c.Presence.Heartbeat)
	}
	if p.ok("redis.namespace") && strings.ContainsAny(c.Redis.Namespace, "{}: ") {
		p.add("redis.namespace", "must not contain braces, colons or spaces")
	}
	c.validateRedis(p)
	if p.ok("api_key") && c.APIKey != "" && len(c.APIKey) < 16 {
		p.add("api_key", "must be at least 16 characters")
	}
	if p.ok("ui.prometheus_addr") && c.UI.PrometheusAddr != "" {
		if u, err := url.Parse(c.UI.PrometheusAddr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("ui.prometheus_addr", "%q is not an http(s) URL such as http://prometheus:9090", c.UI.PrometheusAddr)
		}
	}
	if c.NodeID == "" {
		c.NodeID, _ = os.Hostname()
	}
}

// validateRedis checks the settings each redis.mode needs.
func (c *Config) validateRedis(p *problems) {
	if !p.ok("redis.mode", "redis.addrs", "redis.master_name", "redis.db") {
		return
	}
	switch redis.Mode(c.Redis.Mode) {
	case redis.ModeCluster:
		if len(c.Redis.Addrs) == 0 {
			p.add("redis.addrs", "cluster mode needs some of the cluster's nodes (host:port, comma-separated)")
		}
		if c.Redis.DB != 0 {
			p.add("redis.db", "must be 0 in cluster mode (a Redis Cluster has only database 0); keep deployments apart with redis.namespace")
		}
	case redis.ModeSentinel:
		if len(c.Redis.Addrs) == 0 {
			p.add("redis.addrs", "sentinel mode needs the sentinels' addresses (host:port, comma-separated)")
		}
		if c.Redis.MasterName == "" {
			p.add("redis.master_name", "sentinel mode needs the name the sentinels know the master by")
		}
	}
}

// minWebhookSecret is the shortest webhook.secret accepted, in bytes.
const minWebhookSecret = 32

// validateWebhook checks the webhook settings when webhook.url is set.
func (c *Config) validateWebhook(p *problems) {
	w := c.Webhook
	if p.ok("webhook.queue", "reminder.queue") && w.Queue == c.Reminder.Queue {
		p.add("webhook.queue", "must differ from reminder.queue %q: webhook tasks have their own queue", c.Reminder.Queue)
	}
	if !p.ok("webhook.url") || w.URL == "" {
		return
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("webhook.url", "%q is not an http(s) URL such as https://push.example.com/gateway", w.URL)
	}
	if p.ok("webhook.secret") && len(w.Secret) < minWebhookSecret {
		p.add("webhook.secret", "webhook.url needs a secret of at least %d bytes to sign with; generate one with: openssl rand -hex 32", minWebhookSecret)
	}
	if p.ok("webhook.types") && len(w.Types) == 0 {
		p.add("webhook.types", "lists no type, so nothing would be posted: list some, or leave webhook.url empty")
	}
	if p.ok("worker.enabled", "worker.queues", "webhook.queue") && c.Worker.Enabled && c.Worker.Queues[w.Queue] == 0 {
		p.add("worker.queues", "must include webhook.queue %q, or this node's worker never posts webhooks", w.Queue)
	}
}

// resolveAuth applies the authentication policy: without auth.mode a JWT
// secret or verification key means jwt, and none refuses to start, saying
// how to choose; jwt needs a secret of at least jwtauth.MinSecretLen bytes
// or a public key or JWKS file that loads.
func (c *Config) resolveAuth() error {
	keyFiles := c.JWT.PublicKeyFile != "" || c.JWT.JWKSFile != ""
	if c.Auth.Mode == "" && (c.JWT.Secret != "" || keyFiles) {
		c.Auth.Mode = app.AuthJWT
	}
	switch c.Auth.Mode {
	case app.AuthJWT:
		if (c.JWT.Secret != "" || !keyFiles) && len(c.JWT.Secret) < jwtauth.MinSecretLen {
			return settingError("jwt.secret", "jwt auth needs a secret of at least %d bytes; generate one with: openssl rand -hex 32 "+
				"(or verify RS256/ES256 tokens with jwt.public_key_file or jwt.jwks_file)", jwtauth.MinSecretLen)
		}
		if _, err := c.verifier(); err != nil {
			return err
		}
	case app.AuthInsecure:
	case "":
		return settingError("auth.mode", "no authentication is configured, so the node refuses to start. "+
			"Set GATEWAY_JWT_SECRET to a random secret (openssl rand -hex 32) for jwt auth, "+
			"or choose GATEWAY_AUTH_MODE=insecure explicitly to trust the user ids in requests (development only)")
	default:
		return settingError("auth.mode", "%q is not jwt or insecure", c.Auth.Mode)
	}
	return nil
}

// problems collects what is wrong with a configuration.
type problems struct {
	errs   []error
	failed map[string]bool // keys with a problem
}

// add records a problem with key's value, naming key and its variable.
func (p *problems) add(key, format string, args ...any) {
	p.failed[key] = true
	p.errs = append(p.errs, settingError(key, format, args...))
}

// settingError is a problem with key's value, naming key and its variable.
func settingError(key, format string, args ...any) error {
	return fmt.Errorf("config %s (%s): %s", key, EnvName(key), fmt.Sprintf(format, args...))
}

// ok reports whether none of keys has a problem yet: rules about several
// keys are only checked on values that parsed.
func (p *problems) ok(keys ...string) bool {
	for _, k := range keys {
		if p.failed[k] {
			return false
		}
	}
	return true
}

// verifier returns the verifier of users' tokens in jwt mode: the HS256
// secret and the keys of jwt.public_key_file and jwt.jwks_file, with the
// iss and aud checks.
func (c *Config) verifier() (*jwtauth.Verifier, error) {
	opts := jwtauth.Options{Issuer: c.JWT.Issuer, Audience: c.JWT.Audience}
	if c.JWT.Secret != "" {
		opts.Secret = []byte(c.JWT.Secret)
	}
	for _, f := range []struct{ key, path string }{{"jwt.public_key_file", c.JWT.PublicKeyFile}, {"jwt.jwks_file", c.JWT.JWKSFile}} {
		if f.path == "" {
			continue
		}
		pem, jwks := f.path, ""
		if f.key == "jwt.jwks_file" {
			pem, jwks = "", f.path
		}
		keys, err := jwtauth.LoadKeys(pem, jwks)
		if err != nil {
			return nil, settingError(f.key, "%v", err)
		}
		opts.Keys = append(opts.Keys, keys...)
	}
	return jwtauth.New(opts)
}
