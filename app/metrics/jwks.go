package metrics

import "github.com/prometheus/client_golang/prometheus"

// WatchJWKS exports gateway_jwks_keys, the verification keys held from
// jwt.jwks_url (read from keys at each scrape; 0 means no token of the
// identity provider can be verified), and returns the hook that counts a
// failed fetch in gateway_jwks_fetch_errors_total. Call it once.
func (m *Metrics) WatchJWKS(keys func() int) (fetchFailed func(error)) {
	failed := prometheus.NewCounter(prometheus.CounterOpts{Name: "gateway_jwks_fetch_errors_total",
		Help: "Fetches of jwt.jwks_url that failed (no answer, a status other than 200, a body that is not a key set)."})
	m.reg.MustRegister(failed, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_jwks_keys",
		Help: "Verification keys held from jwt.jwks_url."}, func() float64 { return float64(keys()) }))
	return func(error) { failed.Inc() }
}
