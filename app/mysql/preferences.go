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

type preferencesRow struct {
	UserID     int64 `gorm:"primaryKey;autoIncrement:false"`
	TimeZone   string
	QuietStart *int
	QuietEnd   *int
	UpdatedAt  time.Time
}

func (preferencesRow) TableName() string { return "user_preferences" }

type typePreferenceRow struct {
	UserID  int64 `gorm:"primaryKey;autoIncrement:false"`
	MsgType int   `gorm:"primaryKey;autoIncrement:false"`
	InApp   bool
	Push    bool
}

func (typePreferenceRow) TableName() string { return "user_type_preferences" }

type reminderOptOutRow struct {
	UserID        int64 `gorm:"primaryKey;autoIncrement:false"`
	ReservationID int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (reminderOptOutRow) TableName() string { return "reminder_opt_outs" }

// Preferences returns user's notification preferences, checked (see
// app.Preferences.Check): the defaults when none are stored.
func (s *Store) Preferences(ctx context.Context, user int64) (app.Preferences, error) {
	p := app.DefaultPreferences(user)
	db := s.db.WithContext(ctx)
	var row preferencesRow
	err := db.Take(&row, user).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return p, nil
	case err != nil:
		return app.Preferences{}, dbError(fmt.Sprintf("get the preferences of user %d", user), err)
	}
	p.TimeZone = row.TimeZone
	if row.QuietStart != nil && row.QuietEnd != nil {
		p.QuietStart, p.QuietEnd = app.FormatClock(*row.QuietStart), app.FormatClock(*row.QuietEnd)
	}
	var types []typePreferenceRow
	if err := db.Where("user_id = ?", user).Find(&types).Error; err != nil {
		return app.Preferences{}, dbError(fmt.Sprintf("get the type preferences of user %d", user), err)
	}
	p.Types = map[string]app.ChannelPreference{}
	for _, t := range types {
		if name := app.MessageType(t.MsgType).Name(); name != "" {
			p.Types[name] = app.ChannelPreference{InApp: t.InApp, Push: t.Push}
		}
	}
	if err := db.Model(&reminderOptOutRow{}).Where("user_id = ?", user).Order("reservation_id").
		Pluck("reservation_id", &p.RemindersMutedFor).Error; err != nil {
		return app.Preferences{}, dbError(fmt.Sprintf("get the reminder opt-outs of user %d", user), err)
	}
	if err := p.Check(); err != nil {
		return app.Preferences{}, fmt.Errorf("stored preferences of user %d: %w", user, err)
	}
	return p, nil
}

// SetPreferences replaces p.UserID's preferences with p, which Check has
// accepted, in one transaction.
func (s *Store) SetPreferences(ctx context.Context, p app.Preferences) error {
	row := preferencesRow{UserID: p.UserID, TimeZone: p.TimeZone, UpdatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if start, ok, _ := app.ParseClock(p.QuietStart, ""); ok {
		end, _, _ := app.ParseClock(p.QuietEnd, "")
		row.QuietStart, row.QuietEnd = &start, &end
	}
	var types []typePreferenceRow
	for _, name := range app.MessageTypeNames() {
		c, ok := p.Types[name]
		if !ok || c.InApp && c.Push {
			continue // the default
		}
		t, _ := app.ParseMessageTypeName(name)
		types = append(types, typePreferenceRow{UserID: p.UserID, MsgType: int(t), InApp: c.InApp, Push: c.Push})
	}
	optOuts := make([]reminderOptOutRow, len(p.RemindersMutedFor))
	for i, id := range p.RemindersMutedFor {
		optOuts[i] = reminderOptOutRow{UserID: p.UserID, ReservationID: id}
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", p.UserID).Delete(&typePreferenceRow{}).Error; err != nil {
			return err
		}
		if len(types) > 0 {
			if err := tx.Create(&types).Error; err != nil {
				return err
			}
		}
		if err := tx.Where("user_id = ?", p.UserID).Delete(&reminderOptOutRow{}).Error; err != nil {
			return err
		}
		if len(optOuts) > 0 {
			return tx.CreateInBatches(&optOuts, 500).Error
		}
		return nil
	})
	if err != nil {
		return dbError(fmt.Sprintf("set the preferences of user %d", p.UserID), err)
	}
	return nil
}

// UsersWithPreferences returns those of users who have preferences stored.
func (s *Store) UsersWithPreferences(ctx context.Context, users []int64) ([]int64, error) {
	var out []int64
	for len(users) > 0 {
		n := min(len(users), 1000)
		var ids []int64
		if err := s.db.WithContext(ctx).Model(&preferencesRow{}).Where("user_id IN ?", users[:n]).Pluck("user_id", &ids).Error; err != nil {
			return nil, dbError("find users with preferences", err)
		}
		out = append(out, ids...)
		users = users[n:]
	}
	return out, nil
}
