package reminder_test

import (
	"errors"
	"strings"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/houseview/gateway/app/mysql"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func errorsIsSkipRetry(err error) bool { return errors.Is(err, asynq.SkipRetry) }

func mysqlStore(db *gorm.DB) *mysql.Store { return mysql.NewStore(db) }
