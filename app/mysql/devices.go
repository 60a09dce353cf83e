package mysql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/houseview/gateway/app"
)

type deviceRow struct {
	ID        int64
	UserID    int64
	Platform  string
	Token     string
	App       string
	Locale    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (deviceRow) TableName() string { return "devices" }

func (r *deviceRow) device() app.Device {
	return app.Device{ID: r.ID, UserID: r.UserID, Platform: app.Platform(r.Platform), Token: r.Token,
		App: r.App, Locale: r.Locale, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// RegisterDevice stores d for d.UserID and fills in its ID and times. A
// token already registered (same platform and token) keeps its row and id
// and moves to d.UserID with d's app and locale: a token belongs to one
// user at a time. When the user then has more than maxPerUser devices
// (maxPerUser > 0), the least recently registered others are removed and
// their ids returned: a user who reinstalls the app keeps receiving on the
// new installation.
func (s *Store) RegisterDevice(ctx context.Context, d *app.Device, maxPerUser int) (evicted []int64, err error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	row := deviceRow{UserID: d.UserID, Platform: string(d.Platform), Token: d.Token, App: d.App, Locale: d.Locale,
		CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{DoUpdates: clause.AssignmentColumns([]string{"user_id", "app", "locale", "updated_at"})}).
			Omit("ID").Create(&row).Error
		if err != nil {
			return dbError("register device", err)
		}
		if err := tx.Where("platform = ? AND token = ?", row.Platform, row.Token).Take(&row).Error; err != nil {
			return dbError("read registered device", err)
		}
		if maxPerUser <= 0 {
			return nil
		}
		var ids []int64
		if err := tx.Model(&deviceRow{}).Where("user_id = ?", d.UserID).Order("updated_at DESC, id DESC").
			Offset(maxPerUser).Limit(1000).Pluck("id", &ids).Error; err != nil {
			return dbError("count devices", err)
		}
		if len(ids) == 0 {
			return nil
		}
		evicted = ids
		return dbError("evict devices", tx.Where("id IN ? AND user_id = ?", ids, d.UserID).Delete(&deviceRow{}).Error)
	})
	if err != nil {
		return nil, err
	}
	*d = row.device()
	return evicted, nil
}

// Devices returns user's devices in registration order (oldest first).
func (s *Store) Devices(ctx context.Context, user int64) ([]app.Device, error) {
	var rows []deviceRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", user).Order("id").Find(&rows).Error; err != nil {
		return nil, dbError(fmt.Sprintf("list devices of user %d", user), err)
	}
	devices := make([]app.Device, len(rows))
	for i := range rows {
		devices[i] = rows[i].device()
	}
	return devices, nil
}

// Device returns device id, or ENotFound.
func (s *Store) Device(ctx context.Context, id int64) (app.Device, error) {
	var row deviceRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return app.Device{}, app.Errorf(app.ENotFound, "device %d not found", id)
	}
	if err != nil {
		return app.Device{}, dbError(fmt.Sprintf("get device %d", id), err)
	}
	return row.device(), nil
}

// DeleteDevice removes device id of user; ENotFound when user has no such
// device (another user's device included).
func (s *Store) DeleteDevice(ctx context.Context, user, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, user).Delete(&deviceRow{})
	if res.Error != nil {
		return dbError(fmt.Sprintf("delete device %d", id), res.Error)
	}
	if res.RowsAffected == 0 {
		return app.Errorf(app.ENotFound, "device %d not found", id)
	}
	return nil
}

// RemoveDeadDevice removes device id if it still has token: a provider
// said the token is dead. A device registered again since with another
// token is kept. It reports whether a row was removed.
func (s *Store) RemoveDeadDevice(ctx context.Context, id int64, token string) (bool, error) {
	res := s.db.WithContext(ctx).Where("id = ? AND token = ?", id, token).Delete(&deviceRow{})
	if res.Error != nil {
		return false, dbError(fmt.Sprintf("remove dead device %d", id), res.Error)
	}
	return res.RowsAffected > 0, nil
}
