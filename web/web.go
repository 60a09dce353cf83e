// Package web holds the browser test page of the gateway (served under
// /web/ by cmd/gateway): plain HTML and JavaScript, no build step.
package web

import "embed"

// Files are the page's files: index.html and app.js.
//
//go:embed index.html app.js
var Files embed.FS
