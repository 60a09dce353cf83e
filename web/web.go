// Package web holds the browser test page of the gateway and its JavaScript
// client (served under /web/ by cmd/gateway): plain HTML and JavaScript, no
// build step.
package web

import "embed"

// Files are the page's files (index.html, app.js) and the client module
// (gateway-client.js, with its types in gateway-client.d.ts).
//
//go:embed index.html app.js gateway-client.js gateway-client.d.ts
var Files embed.FS
