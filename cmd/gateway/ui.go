package main

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/houseview/gateway/app/httpapi"
)

// uiRoot is where the asynq web UI is mounted.
const uiRoot = "/asynq"

// mountUI serves asynqmon at /asynq/ behind the operator auth and returns
// it for closing.
func mountUI(e *gin.Engine, cfg *Config, log *slog.Logger) *asynqmon.HTTPHandler {
	h := asynqmon.New(asynqmon.Options{
		RootPath:     uiRoot,
		RedisConnOpt: asynq.RedisClientOpt{Addr: cfg.RedisAddr, Password: cfg.RedisPassword, DB: cfg.RedisDB},
	})
	auth := httpapi.OperatorAuth{Mode: cfg.AuthMode, APIKey: cfg.APIKey, User: cfg.UIUsername, Password: cfg.UIPassword, Logger: log}.Middleware()
	e.GET(uiRoot, func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, uiRoot+"/") })
	e.Any(uiRoot+"/*any", auth, gin.WrapH(h))
	return h
}
