package httpapi

import (
	"net/http"
	"net/http/pprof"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
)

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
