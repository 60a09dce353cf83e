package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// ForwardedHost returns next behind a check of the forwarding headers: a
// request from a trusted proxy (its TCP peer address is in trusted) that
// carries X-Forwarded-Host, or else Forwarded with host=, reaches next with
// that host as its Host, so that the WebSocket origin check compares the
// browser's Origin with the host the browser used. From any other peer the
// two headers are removed and Host is left as it is.
//
// The proxy must set the headers, not append to what the client sent: of
// several values the last one (the nearest proxy's) is taken.
func ForwardedHost(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Forwarded-Host") == "" && r.Header.Get("Forwarded") == "" {
			next.ServeHTTP(w, r)
			return
		}
		fwd := r.WithContext(r.Context()) // handlers must not change the Request they are given
		if host := forwardedHost(r.Header); host != "" && trustedPeer(trusted, r.RemoteAddr) {
			fwd.Host = host
		} else {
			fwd.Header = r.Header.Clone()
			fwd.Header.Del("X-Forwarded-Host")
			fwd.Header.Del("Forwarded")
		}
		next.ServeHTTP(w, fwd)
	})
}

// trustedPeer reports whether remoteAddr (ip:port) is in one of trusted.
func trustedPeer(trusted []netip.Prefix, remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedHost is the last X-Forwarded-Host value, or else the host= of
// the last Forwarded element (RFC 7239); "" when neither names a host.
func forwardedHost(h http.Header) string {
	if v := lastItem(h.Values("X-Forwarded-Host")); v != "" {
		return validHost(v)
	}
	for pair := range strings.SplitSeq(lastItem(h.Values("Forwarded")), ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(name, "host") {
			return validHost(strings.Trim(value, `"`))
		}
	}
	return ""
}

// lastItem is the last non-empty item of comma-separated header values.
func lastItem(values []string) string {
	items := strings.Split(strings.Join(values, ","), ",")
	for i := len(items) - 1; i >= 0; i-- {
		if v := strings.TrimSpace(items[i]); v != "" {
			return v
		}
	}
	return ""
}

// validHost returns host when it can be a host[:port], else "".
func validHost(host string) string {
	if host == "" || len(host) > 255 || strings.ContainsAny(host, " \t/\\@?#\"") {
		return ""
	}
	return host
}
