package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OldestOutboxMessage returns when the oldest message still in the outbox
// was written; ok is false when the outbox is empty. One MIN over the
// created_at index (metrics.Outbox).
func (s *Store) OldestOutboxMessage(ctx context.Context) (created time.Time, ok bool, err error) {
	var oldest sql.NullTime
	if err := s.db.WithContext(ctx).Model(&outboxRow{}).Select("MIN(created_at)").Scan(&oldest).Error; err != nil {
		return time.Time{}, false, fmt.Errorf("oldest outbox message: %w", err)
	}
	return oldest.Time, oldest.Valid, nil
}
