// Package web holds the gateway's demo page and its JavaScript client
// (served under /web/ by cmd/gateway): plain HTML, CSS and JavaScript
// modules, no build step, no dependencies.
package web

import (
	"embed"
	"io/fs"
)

// Files are the page's files (index.html, app.js, style.css) and the client
// module it is built on (gateway-client.js, with its types in
// gateway-client.d.ts).
//
//go:embed index.html app.js style.css gateway-client.js gateway-client.d.ts
var Files embed.FS

//go:embed console
var console embed.FS

// Console is the operator console's page (index.html, console.js,
// console.css), served by the nodes at /console/ behind the operator
// credentials.
func Console() fs.FS {
	sub, err := fs.Sub(console, "console")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
