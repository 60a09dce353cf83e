package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
	"github.com/houseview/gateway/web"
)

// mountWeb serves the browser test page (web.Files) under /web/ and
// redirects / to it.
func mountWeb(e *gin.Engine) {
	e.GET("/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/web/") })
	e.GET("/web/*file", func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "" {
			name = "index.html"
		}
		b, err := fs.ReadFile(web.Files, name)
		if err != nil {
			httperr.Write(c.Writer, app.Errorf(app.ENotFound, "no file %s", c.Request.URL.Path))
			return
		}
		// The type comes from the name's extension (.html, .js).
		c.Header("Cache-Control", "no-cache")
		http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(b))
	})
}
