// Package mobilepush sends one notification to one device through a mobile
// push provider: Firebase Cloud Messaging (HTTP v1), Apple Push Notification
// service (HTTP/2, token auth) or JPush (REST v3). It knows nothing of the
// product: a caller builds a [Message], picks a [Provider] and reads the
// outcome of Send as an [*Error] whose [Kind] says what to do next (retry
// later, give up, or forget the device token).
//
// What each provider uses:
//
//   - FCM: golang.org/x/oauth2/google parses the service-account key and its
//     JWT bearer grant mints and caches the OAuth2 access token (refreshed
//     shortly before expiry). The send request (POST
//     /v1/projects/{project}/messages:send), its JSON body and the mapping of
//     FCM's error body (status, FcmError errorCode, BadRequest field
//     violations) are written here by hand on net/http; the Firebase Admin
//     SDK is not used.
//   - APNs: github.com/sideshow/apns2 does the HTTP/2 request, the ES256
//     provider token (its token package, regenerated every 50 minutes) and
//     the payload (its payload package). Written here: the mapping of APNs's
//     status and reason to a Kind, and a small RoundTripper that keeps the
//     HTTP status and Retry-After that apns2's Response does not expose.
//   - JPush: no Go library; the POST /v3/push request with basic auth, its
//     JSON body and the mapping of JPush's error codes are written here on
//     net/http.
//
// Retry-After is read in both of its forms (delay-seconds and HTTP-date);
// for JPush a 429's X-Rate-Limit-Reset stands in when Retry-After is absent.
package mobilepush
