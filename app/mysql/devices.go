package mysql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

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
	_, evicted, err = s.RegisterNewDevice(ctx, d, maxPerUser)
	return evicted, err
}

// upsertDevice inserts a device, or moves its token's row to the user.
const upsertDevice = `INSERT INTO devices (user_id, platform, token, app, locale, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), app = VALUES(app), locale = VALUES(locale), updated_at = VALUES(updated_at)`

// RegisterNewDevice is RegisterDevice that also reports whether the token
// was new (a row was inserted) rather than registered again or moved.
func (s *Store) RegisterNewDevice(ctx context.Context, d *app.Device, maxPerUser int) (created bool, evicted []int64, err error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	row := deviceRow{UserID: d.UserID, Platform: string(d.Platform), Token: d.Token, App: d.App, Locale: d.Locale,
		CreatedAt: now, UpdatedAt: now}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Exec, not Create: MariaDB's INSERT ... RETURNING counts the
		// updated row too. MySQL counts 1 for an inserted row, 2 for an
		// updated one, 0 for one left as it was.
		res := tx.Exec(upsertDevice, row.UserID, row.Platform, row.Token, row.App, row.Locale, row.CreatedAt, row.UpdatedAt)
		if res.Error != nil {
			return dbError("register device", res.Error)
		}
		created = res.RowsAffected == 1
		if err := tx.Where("platform = ? AND token = ?", row.Platform, row.Token).Take(&row).Error; err != nil {
			return dbError("read registered device", err)
		}
		if maxPerUser <= 0 {
			return nil
		}
		var err error
		evicted, err = evictDevices(tx, d.UserID, maxPerUser)
		return err
	})
	if err != nil {
		return false, nil, err
	}
	*d = row.device()
	return created, evicted, nil
}

// evictDevices removes user's devices beyond the maxPerUser most recently
// registered, and returns their ids.
func evictDevices(tx *gorm.DB, user int64, maxPerUser int) ([]int64, error) {
	var ids []int64
	if err := tx.Model(&deviceRow{}).Where("user_id = ?", user).Order("updated_at DESC, id DESC").
		Offset(maxPerUser).Limit(1000).Pluck("id", &ids).Error; err != nil {
		return nil, dbError("count devices", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if err := tx.Where("id IN ? AND user_id = ?", ids, user).Delete(&deviceRow{}).Error; err != nil {
		return nil, dbError("evict devices", err)
	}
	return ids, nil
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
