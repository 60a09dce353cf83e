package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/httperr"
)

// MountWeb serves files (the demo page and the JavaScript client) under
// /web/ and redirects / to it.
func MountWeb(e *gin.Engine, files fs.FS) {
	serve := fileServer(files, "index.html")
	GET(e, "/", func(c *gin.Context) { c.Redirect(http.StatusFound, "/web/") })
	GET(e, "/web/*file", serve)
}

// fileServer serves the file of files that the route's *file parameter
// names (index for none). Each file has an ETag, its content's hash, so a
// browser revalidates with If-None-Match and gets 304 while the node's
// build is the same.
func fileServer(files fs.FS, index string) gin.HandlerFunc {
	var etags sync.Map // name -> the quoted ETag of its content
	return func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "" {
			name = index
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			httperr.Write(c.Writer, app.Errorf(app.ENotFound, "no file %s", c.Request.URL.Path))
			return
		}
		// The type comes from the name's extension (.html), but not for
		// scripts, styles and types: the system's MIME table must not
		// decide them (a module script or a style sheet of the wrong type
		// is refused by the browser).
		switch {
		case strings.HasSuffix(name, ".js"):
			c.Header("Content-Type", "text/javascript; charset=utf-8")
		case strings.HasSuffix(name, ".css"):
			c.Header("Content-Type", "text/css; charset=utf-8")
		case strings.HasSuffix(name, ".d.ts"):
			c.Header("Content-Type", "application/typescript; charset=utf-8")
		}
		if strings.HasPrefix(name, "gateway-client.") {
			// A module other origins may import (module scripts need CORS).
			c.Header("Access-Control-Allow-Origin", "*")
		}
		etag, ok := etags.Load(name)
		if !ok {
			sum := sha256.Sum256(b)
			etag, _ = etags.LoadOrStore(name, `"`+hex.EncodeToString(sum[:16])+`"`)
		}
		c.Header("ETag", etag.(string))
		c.Header("Cache-Control", "no-cache")
		http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(b))
	}
}

// uiRoot is where the asynq web UI is mounted.
const uiRoot = "/asynq"

// MountAsynqUI serves the asynq web UI (asynqmon) of the queues at redis
// at /asynq/ behind auth (Operator), its Metrics page querying the
// Prometheus at prometheus (none: ""). It returns the UI for closing.
func MountAsynqUI(e *gin.Engine, redis asynq.RedisConnOpt, prometheus string, auth gin.HandlerFunc) *asynqmon.HTTPHandler {
	h := asynqmon.New(asynqmon.Options{RootPath: uiRoot, RedisConnOpt: redis, PrometheusAddress: prometheus})
	GET(e, uiRoot, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, uiRoot+"/") })
	e.Any(uiRoot+"/*any", auth, gin.WrapH(h))
	return h
}

// MountPprof serves Go's profiler at /debug/pprof/ behind auth (Operator).
func MountPprof(e *gin.Engine, auth gin.HandlerFunc) {
	g := e.Group("/debug/pprof", auth)
	GET(g, "/", gin.WrapF(pprof.Index))
	GET(g, "/cmdline", gin.WrapF(pprof.Cmdline))
	GET(g, "/profile", gin.WrapF(pprof.Profile))
	GET(g, "/symbol", gin.WrapF(pprof.Symbol))
	GET(g, "/trace", gin.WrapF(pprof.Trace))
	GET(g, "/:name", func(c *gin.Context) { pprof.Handler(c.Param("name")).ServeHTTP(c.Writer, c.Request) })
}
