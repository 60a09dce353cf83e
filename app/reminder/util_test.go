package reminder_test

import (
	"errors"
	"strings"

	"github.com/hibiken/asynq"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func errorsIsSkipRetry(err error) bool { return errors.Is(err, asynq.SkipRetry) }
