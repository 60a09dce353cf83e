package mysql

import (
	"context"
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
	List    bool
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
	stored, err := s.PreferencesOf(ctx, []int64{user})
	if err != nil {
		return app.Preferences{}, err
	}
	if p, ok := stored[user]; ok {
		return p, nil
	}
	return app.DefaultPreferences(user), nil
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
		if !ok || c.InApp && c.Push && !c.List {
			continue // the default
		}
		t, _ := app.ParseMessageTypeName(name)
		types = append(types, typePreferenceRow{UserID: p.UserID, MsgType: int(t), InApp: c.InApp, Push: c.Push, List: c.List})
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

// PreferencesOf returns the preferences of each of users who has some
// stored, checked, by user; the others have the defaults. Three queries
// per 1000 users.
func (s *Store) PreferencesOf(ctx context.Context, users []int64) (map[int64]app.Preferences, error) {
	out := make(map[int64]app.Preferences)
	db := s.db.WithContext(ctx)
	for len(users) > 0 {
		chunk := users[:min(len(users), 1000)]
		users = users[len(chunk):]
		var rows []preferencesRow
		if err := db.Where("user_id IN ?", chunk).Find(&rows).Error; err != nil {
			return nil, dbError("get preferences", err)
		}
		if len(rows) == 0 {
			continue
		}
		found := make([]int64, len(rows))
		for i, row := range rows {
			found[i] = row.UserID
			p := app.DefaultPreferences(row.UserID)
			p.TimeZone, p.Types = row.TimeZone, map[string]app.ChannelPreference{}
			if row.QuietStart != nil && row.QuietEnd != nil {
				p.QuietStart, p.QuietEnd = app.FormatClock(*row.QuietStart), app.FormatClock(*row.QuietEnd)
			}
			out[row.UserID] = p
		}
		var types []typePreferenceRow
		if err := db.Where("user_id IN ?", found).Find(&types).Error; err != nil {
			return nil, dbError("get type preferences", err)
		}
		for _, t := range types {
			if name := app.MessageType(t.MsgType).Name(); name != "" {
				out[t.UserID].Types[name] = app.ChannelPreference{InApp: t.InApp, Push: t.Push, List: t.List}
			}
		}
		var optOuts []reminderOptOutRow
		if err := db.Where("user_id IN ?", found).Order("user_id, reservation_id").Find(&optOuts).Error; err != nil {
			return nil, dbError("get reminder opt-outs", err)
		}
		for _, o := range optOuts {
			p := out[o.UserID]
			p.RemindersMutedFor = append(p.RemindersMutedFor, o.ReservationID)
			out[o.UserID] = p
		}
		for _, u := range found {
			p := out[u]
			if err := p.Check(); err != nil {
				return nil, fmt.Errorf("stored preferences of user %d: %w", u, err)
			}
			out[u] = p
		}
	}
	return out, nil
}
