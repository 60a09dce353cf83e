package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/houseview/gateway/app"
)

// Store is the MySQL side of the reservation service.
type Store struct {
	db     *gorm.DB
	houses houseCache
}

// NewStore returns a Store on db (migrated: see Migrate).
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// House returns house id, or ENotFound. A house read less than a minute
// ago comes from memory.
func (s *Store) House(ctx context.Context, id int64) (*app.House, error) {
	if h, ok := s.houses.get(id, time.Now()); ok {
		return h, nil
	}
	var row houseRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENotFound, "house %d not found", id)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("get house %d", id), err)
	}
	h := row.house()
	s.houses.put(h, time.Now())
	return h, nil
}

// Reservation returns reservation id, or ENotFound.
func (s *Store) Reservation(ctx context.Context, id int64) (*app.Reservation, error) {
	var row reservationRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, app.Errorf(app.ENotFound, "reservation %d not found", id)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("get reservation %d", id), err)
	}
	return row.reservation(), nil
}

// CreateReservation inserts r (setting r.ID) and, in the same transaction,
// the messages that notify builds from the stored reservation. It returns
// those messages. An active reservation of the same tenant, house and time
// is EAlreadyExists.
func (s *Store) CreateReservation(ctx context.Context, r *app.Reservation, notify func(*app.Reservation) ([]app.Message, error)) ([]app.Message, error) {
	var msgs []app.Message
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := toReservationRow(r)
		if err := tx.Omit("ID").Create(row).Error; err != nil {
			if serverError(err, erDuplicate) {
				return app.Errorf(app.EAlreadyExists, "tenant %d already has an active reservation of house %d at %s",
					r.TenantID, r.HouseID, r.ReserveTime.Format(app.TimeLayout))
			}
			return dbError("insert reservation", err)
		}
		r.ID = row.ID
		var err error
		if msgs, err = notify(r); err != nil {
			return err
		}
		return insertMessages(tx, msgs, r.CreatedAt)
	})
	if err != nil {
		return nil, dbError("create reservation", err)
	}
	return msgs, nil
}

// UpdateReservation writes r's state if the stored row still has version
// fromVersion, and stores msgs in the same transaction. A row that moved on
// is EAborted: the caller read a state that is no longer current.
func (s *Store) UpdateReservation(ctx context.Context, r *app.Reservation, fromVersion int64, msgs []app.Message) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&reservationRow{}).
			Where("id = ? AND version = ?", r.ID, fromVersion).
			Updates(map[string]any{
				"status":       string(r.Status),
				"reason":       r.Reason,
				"cancelled_by": r.CancelledBy,
				"version":      r.Version,
				"updated_at":   r.UpdatedAt.UTC(),
			})
		if res.Error != nil {
			return dbError(fmt.Sprintf("update reservation %d", r.ID), res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.EAborted, "reservation %d was changed concurrently; read it again", r.ID)
		}
		return insertMessages(tx, msgs, r.UpdatedAt)
	})
	return dbError(fmt.Sprintf("update reservation %d", r.ID), err)
}

// AddMessages stores msgs in the outbox.
func (s *Store) AddMessages(ctx context.Context, msgs []app.Message, at time.Time) error {
	return insertMessages(s.db.WithContext(ctx), msgs, at)
}

func insertMessages(tx *gorm.DB, msgs []app.Message, at time.Time) error {
	if len(msgs) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(msgs))
	for i, m := range msgs {
		rows[i] = outboxRow{MsgID: m.ID, UserID: m.UserID, Payload: string(m.Payload), CreatedAt: at.UTC()}
	}
	// A known msg_id is a retry of a message already stored: keep the first.
	if err := tx.Omit("ID").Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return dbError("insert outbox", err)
	}
	return nil
}

// PendingMessages returns up to limit outbox messages written at or before
// before, except those to the users in except, oldest first.
func (s *Store) PendingMessages(ctx context.Context, before time.Time, except []int64, limit int) ([]app.Message, error) {
	q := s.db.WithContext(ctx).Where("created_at <= ?", before.UTC())
	if len(except) > 0 {
		q = q.Where("user_id NOT IN ?", except)
	}
	return readOutbox(q, limit)
}

// PendingMessagesFor returns up to limit outbox messages to the given users,
// oldest first.
func (s *Store) PendingMessagesFor(ctx context.Context, users []int64, limit int) ([]app.Message, error) {
	if len(users) == 0 {
		return nil, nil
	}
	return readOutbox(s.db.WithContext(ctx).Where("user_id IN ?", users), limit)
}

func readOutbox(q *gorm.DB, limit int) ([]app.Message, error) {
	var rows []outboxRow
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, dbError("read outbox", err)
	}
	msgs := make([]app.Message, len(rows))
	for i, r := range rows {
		msgs[i] = app.Message{ID: r.MsgID, UserID: r.UserID, Payload: []byte(r.Payload)}
	}
	return msgs, nil
}

// DeleteMessages removes published messages from the outbox.
func (s *Store) DeleteMessages(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Where("msg_id IN ?", ids).Delete(&outboxRow{}).Error; err != nil {
		return dbError("delete outbox", err)
	}
	return nil
}

// ListReservations returns a page of one user's reservations, newest first,
// and how many there are in all.
func (s *Store) ListReservations(ctx context.Context, f app.ReservationFilter) ([]*app.Reservation, int, error) {
	col := "tenant_id"
	if f.Role == app.RoleLandlord {
		col = "landlord_id"
	}
	q := s.db.WithContext(ctx).Model(&reservationRow{}).Where(col+" = ?", f.UserID)
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, dbError("count reservations", err)
	}
	var rows []reservationRow
	if err := q.Order("id DESC").Limit(f.PageSize).Offset(f.Offset()).Find(&rows).Error; err != nil {
		return nil, 0, dbError("list reservations", err)
	}
	out := make([]*app.Reservation, len(rows))
	for i := range rows {
		out[i] = rows[i].reservation()
	}
	return out, int(total), nil
}

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

// Houses change rarely (there is no API to change one) and every booking
// reads one: the store keeps each house it read for houseCacheTTL, so a
// change made elsewhere shows within that time.
const (
	houseCacheTTL  = time.Minute
	houseCacheSize = 10000 // houses kept at most; the cache starts over when full
)

type houseCache struct {
	mu sync.Mutex
	m  map[int64]cachedHouse
}

type cachedHouse struct {
	h       app.House
	expires time.Time
}

// get returns a copy of house id when it was read less than the TTL ago.
func (c *houseCache) get(id int64, now time.Time) (*app.House, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	h := e.h
	h.Tags = slices.Clone(h.Tags)
	return &h, true
}

func (c *houseCache) put(h *app.House, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= houseCacheSize {
		c.m = make(map[int64]cachedHouse)
	}
	kept := *h
	kept.Tags = slices.Clone(h.Tags) // the caller keeps h
	c.m[h.ID] = cachedHouse{h: kept, expires: now.Add(houseCacheTTL)}
}
