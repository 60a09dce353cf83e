package settings

import (
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/mysql"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/app/webhook"
	"github.com/houseview/gateway/pkg/config"
	"github.com/houseview/gateway/pkg/jwtauth"
)

// validate checks the rules that no tag expresses, most of them between
// settings, on the values that parsed: everything serve would refuse
// before it connects anywhere. It fills in the host name as the default
// node id, and the auth mode a JWT secret or key implies.
func (c *Config) validate(p *config.Problems) {
	if p.OK("worker.enabled", "worker.queues", "reminder.queue") && c.Worker.Enabled && c.Worker.Queues[c.Reminder.Queue] == 0 {
		p.Add("worker.queues", "must include reminder.queue %q, or this node's worker never runs reminders", c.Reminder.Queue)
	}
	c.validateWebhook(p)
	c.validatePush(p)
	if p.OK("api.enabled", "worker.enabled") && !c.API.Enabled && !c.Worker.Enabled {
		p.Add("api.enabled", "api and worker are both disabled: the node would do nothing")
	}
	if p.OK("reminder.leads") && len(c.Reminder.Leads) == 0 {
		p.Add("reminder.leads", "needs at least one lead time")
	}
	if p.OK("ws.ping_period", "ws.pong_wait") && c.WS.PingPeriod >= c.WS.PongWait {
		p.Add("ws.ping_period", "must be shorter than ws.pong_wait (%s)", c.WS.PongWait)
	}
	if p.OK("presence.ttl", "presence.heartbeat") && c.Presence.TTL <= 2*c.Presence.Heartbeat {
		p.Add("presence.ttl", "must be more than twice presence.heartbeat (%s)", c.Presence.Heartbeat)
	}
	if p.OK("redis.namespace") && strings.ContainsAny(c.Redis.Namespace, "{}: ") {
		p.Add("redis.namespace", "must not contain braces, colons or spaces")
	}
	c.validateRedis(p)
	if p.OK("mysql.dsn") {
		if err := mysql.CheckDSN(c.MySQL.DSN); err != nil {
			p.Add("mysql.dsn", "%v", err)
		}
	}
	if p.OK("api_key") && c.APIKey != "" && len(c.APIKey) < 16 {
		p.Add("api_key", "must be at least 16 characters")
	}
	if p.OK("auth.mode", "jwt.secret", "jwt.public_key_file", "jwt.jwks_file") {
		c.resolveAuth(p)
	}
	if c.NodeID == "" {
		c.NodeID, _ = os.Hostname()
	}
}

// validateRedis checks the settings each redis.mode needs.
func (c *Config) validateRedis(p *config.Problems) {
	if !p.OK("redis.mode", "redis.addrs", "redis.master_name", "redis.db") {
		return
	}
	switch c.Redis.Mode {
	case redis.ModeCluster:
		if len(c.Redis.Addrs) == 0 {
			p.Add("redis.addrs", "cluster mode needs some of the cluster's nodes (host:port, comma-separated)")
		}
		if c.Redis.DB != 0 {
			p.Add("redis.db", "must be 0 in cluster mode (a Redis Cluster has only database 0); keep deployments apart with redis.namespace")
		}
	case redis.ModeSentinel:
		if len(c.Redis.Addrs) == 0 {
			p.Add("redis.addrs", "sentinel mode needs the sentinels' addresses (host:port, comma-separated)")
		}
		if c.Redis.MasterName == "" {
			p.Add("redis.master_name", "sentinel mode needs the name the sentinels know the master by")
		}
	}
}

// minWebhookSecret is the shortest webhook.secret accepted, in bytes.
const minWebhookSecret = 32

// validateWebhook checks the webhook settings when webhook.url is set.
func (c *Config) validateWebhook(p *config.Problems) {
	w := c.Webhook
	if p.OK("webhook.queue", "reminder.queue") && w.Queue == c.Reminder.Queue {
		p.Add("webhook.queue", "must differ from reminder.queue %q: webhook tasks have their own queue", c.Reminder.Queue)
	}
	if !p.OK("webhook.url") || w.URL == "" {
		return
	}
	if p.OK("webhook.secret") && len(w.Secret) < minWebhookSecret {
		p.Add("webhook.secret", "webhook.url needs a secret of at least %d bytes to sign with; generate one with: openssl rand -hex 32", minWebhookSecret)
	} else if key, err := webhook.SigningKey(w.Secret); p.OK("webhook.secret") && err != nil {
		p.Add("webhook.secret", "%v", err)
	} else if p.OK("webhook.secret") && len(key) < 24 {
		p.Add("webhook.secret", "a whsec_ secret must hold at least 24 bytes (base64 of 24 to 64 random bytes)")
	}
	if p.OK("webhook.types") && len(w.Types) == 0 {
		p.Add("webhook.types", "lists no type, so nothing would be posted: list some, or leave webhook.url empty")
	}
	if p.OK("worker.enabled", "worker.queues", "webhook.queue") && c.Worker.Enabled && c.Worker.Queues[w.Queue] == 0 {
		p.Add("worker.queues", "must include webhook.queue %q, or this node's worker never posts webhooks", w.Queue)
	}
}

// resolveAuth applies the authentication policy: without auth.mode a JWT
// secret or verification key means jwt, and none refuses to start, saying
// how to choose; jwt needs a secret of at least jwtauth.MinSecretLen bytes
// or a public key or JWKS file that loads.
func (c *Config) resolveAuth(p *config.Problems) {
	c.Auth.Mode = app.AuthMode(strings.ToLower(string(c.Auth.Mode)))
	keyFiles := c.JWT.PublicKeyFile != "" || c.JWT.JWKSFile != ""
	keys := keyFiles || c.JWT.JWKSURL != ""
	if c.Auth.Mode == "" && (c.JWT.Secret != "" || keys) {
		c.Auth.Mode = app.AuthJWT
	}
	switch c.Auth.Mode {
	case app.AuthJWT:
		if (c.JWT.Secret != "" || !keys) && len(c.JWT.Secret) < jwtauth.MinSecretLen {
			p.Add("jwt.secret", "jwt auth needs a secret of at least %d bytes; generate one with: openssl rand -hex 32 "+
				"(or verify RS256/ES256 tokens with jwt.public_key_file, jwt.jwks_file or jwt.jwks_url)", jwtauth.MinSecretLen)
		} else if c.JWT.Secret != "" || keyFiles {
			// The URL's keys are fetched by the node: only the others load here.
			if _, err := c.Verifier(nil); err != nil {
				var ke keyError
				if !errors.As(err, &ke) {
					ke = keyError{"jwt.secret", err}
				}
				p.Add(ke.key, "%v", ke.err)
			}
		}
	case app.AuthInsecure:
	case "":
		p.Add("auth.mode", "no authentication is configured, so the node refuses to start. "+
			"Set GATEWAY_JWT_SECRET to a random secret (openssl rand -hex 32) for jwt auth, "+
			"or choose GATEWAY_AUTH_MODE=insecure explicitly to trust the user ids in requests (development only)")
	default:
		p.Add("auth.mode", "%q is not jwt or insecure", c.Auth.Mode)
	}
}

// keyError is a problem with the value of the setting key.
type keyError struct {
	key string
	err error
}

func (e keyError) Error() string { return e.key + ": " + e.err.Error() }

// Verifier returns the verifier of users' tokens in jwt mode: the HS256
// secret, the keys of jwt.public_key_file and jwt.jwks_file, and remote
// (the keys of jwt.jwks_url; nil: none), with the iss and aud checks. A
// key file that does not load is a keyError.
func (c *Config) Verifier(remote *jwtauth.RemoteKeys) (*jwtauth.Verifier, error) {
	opts := jwtauth.Options{Issuer: c.JWT.Issuer, Audience: c.JWT.Audience, Remote: remote}
	if c.JWT.Secret != "" {
		opts.Secret = []byte(c.JWT.Secret)
	}
	for _, f := range []struct{ key, pem, jwks string }{
		{"jwt.public_key_file", c.JWT.PublicKeyFile, ""}, {"jwt.jwks_file", "", c.JWT.JWKSFile}} {
		if f.pem == "" && f.jwks == "" {
			continue
		}
		keys, err := jwtauth.LoadKeys(f.pem, f.jwks)
		if err != nil {
			return nil, keyError{f.key, err}
		}
		opts.Keys = append(opts.Keys, keys...)
	}
	return jwtauth.New(opts)
}

// Ignored says, one sentence each, which settings are set but unused by
// the chosen modes (a likely mistake: the operator expects them to act).
func (c *Config) Ignored() []string {
	var out []string
	if c.Auth.Mode == app.AuthInsecure {
		for key, v := range map[string]string{"jwt.secret": c.JWT.Secret, "jwt.public_key_file": c.JWT.PublicKeyFile,
			"jwt.jwks_file": c.JWT.JWKSFile, "jwt.jwks_url": c.JWT.JWKSURL, "jwt.issuer": c.JWT.Issuer, "jwt.audience": c.JWT.Audience} {
			if v != "" {
				out = append(out, key+" is set but auth.mode is insecure: no token is verified, so it is ignored")
			}
		}
	}
	if c.Redis.Mode == redis.ModeStandalone && len(c.Redis.Addrs) > 0 {
		out = append(out, "redis.addrs is set but redis.mode is standalone: only redis.addr is used")
	}
	if c.Redis.Mode != redis.ModeSentinel && c.Redis.MasterName != "" {
		out = append(out, "redis.master_name is set but redis.mode is "+string(c.Redis.Mode)+": it is used in sentinel mode only")
	}
	if c.Webhook.URL == "" && c.Webhook.Secret != "" {
		out = append(out, "webhook.secret is set but webhook.url is empty: nothing is posted")
	}
	slices.Sort(out)
	return out
}
