package reservation

import (
	"context"
	"time"

	"github.com/houseview/gateway/app"
)

// ConfirmReservation lets the landlord accept a pending reservation; the
// tenant is told (type 2).
func (s *Service) ConfirmReservation(ctx context.Context, id, actor int64) (*app.Reservation, error) {
	return s.transition(ctx, id, actor, app.StatusConfirmed, "", landlordOnly)
}

// RejectReservation lets the landlord refuse a pending reservation; the
// tenant is told (type 5).
func (s *Service) RejectReservation(ctx context.Context, id, actor int64, reason string) (*app.Reservation, error) {
	return s.transition(ctx, id, actor, app.StatusRejected, reason, landlordOnly)
}

// CancelReservation lets either party cancel a pending or confirmed
// reservation; the other party is told (type 3).
func (s *Service) CancelReservation(ctx context.Context, id, actor int64, reason string) (*app.Reservation, error) {
	return s.transition(ctx, id, actor, app.StatusCancelled, reason, partiesOnly)
}

func landlordOnly(r *app.Reservation, actor int64) error {
	if actor != r.LandlordID {
		return app.Errorf(app.EPermissionDenied, "only the landlord of reservation %d may do this", r.ID)
	}
	return nil
}

func partiesOnly(r *app.Reservation, actor int64) error {
	if !r.IsParty(actor) {
		return app.Errorf(app.EPermissionDenied, "user %d is not a party to reservation %d", actor, r.ID)
	}
	return nil
}

// transition moves reservation id to state to on behalf of actor. The write
// is conditional on the version read, so under concurrency each request
// either applies to the state it saw or fails with EAborted.
func (s *Service) transition(ctx context.Context, id, actor int64, to app.Status, reason string,
	allowed func(*app.Reservation, int64) error) (*app.Reservation, error) {
	if err := checkReservationID(id); err != nil {
		return nil, err
	}
	if actor <= 0 {
		return nil, app.Errorf(app.EInvalidArgument, "the acting user id must be a positive integer")
	}
	reason, err := CheckReason(reason)
	if err != nil {
		return nil, err
	}
	cur, err := s.store.Reservation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := allowed(cur, actor); err != nil {
		return nil, err
	}
	if !cur.Status.CanMove(to) {
		return nil, app.Errorf(app.EFailedPrecondition, "reservation %d is %s and cannot become %s", id, cur.Status, to)
	}
	now := s.opts.Now()
	if err := s.checkNotPast(cur, actor, to, now); err != nil {
		return nil, err
	}
	next := *cur
	next.Status, next.Reason, next.Version = to, reason, cur.Version+1
	next.UpdatedAt = now.Truncate(time.Millisecond)
	if to == app.StatusCancelled {
		next.CancelledBy = actor
	}
	s.inZone(&next)
	if err := s.commit(ctx, cur.Version, &next, actor); err != nil {
		return nil, err
	}
	return &next, nil
}

// commit writes next (conditional on version) with its notifications, and
// keeps the reminders in step: scheduled before a confirm commits (the
// other way round a crash could leave a confirmed viewing without
// reminders; a task that runs before the commit finds the reservation
// pending and retries shortly, and if the commit fails its retries run out
// or a reject or cancel deletes it), deleted after a reject or cancel.
func (s *Service) commit(ctx context.Context, version int64, next *app.Reservation, actor int64) error {
	to := next.Status
	msgs, err := s.messages(next, eventFor[to], actor, "")
	if err != nil {
		return err
	}
	if to == app.StatusConfirmed && s.opts.Reminders != nil {
		if err := s.opts.Reminders.Schedule(ctx, next); err != nil {
			s.opts.Logger.WarnContext(ctx, "scheduling reminders failed", "reservation_id", next.ID, "err", err)
			return app.Errorf(app.EUnavailable, "cannot schedule the reminders now; try again")
		}
	}
	if err := s.store.UpdateReservation(ctx, next, version, msgs); err != nil {
		return err
	}
	s.counted(string(to))
	if s.opts.Reminders != nil && (to == app.StatusCancelled || to == app.StatusRejected) {
		if err := s.opts.Reminders.Cancel(context.WithoutCancel(ctx), next); err != nil {
			// Harmless: a reminder that still fires finds the reservation
			// no longer confirmed.
			s.opts.Logger.WarnContext(ctx, "deleting reminders failed", "reservation_id", next.ID, "err", err)
		}
	}
	s.deliver(ctx, msgs)
	return nil
}

// checkNotPast refuses a transition of a viewing whose time has come:
// nothing can be confirmed, rejected or cancelled after the fact, except
// that the landlord may cancel up to CancelGrace after the time (a viewing
// that did not take place).
func (s *Service) checkNotPast(r *app.Reservation, actor int64, to app.Status, now time.Time) error {
	if now.Before(r.ReserveTime) {
		return nil
	}
	if to == app.StatusCancelled && actor == r.LandlordID && now.Before(r.ReserveTime.Add(s.opts.CancelGrace)) {
		return nil
	}
	when := r.ReserveTime.In(s.opts.Location).Format(app.TimeLayout)
	if to == app.StatusCancelled && actor == r.LandlordID {
		return app.Errorf(app.EFailedPrecondition, "the viewing of reservation %d was at %s; the landlord may cancel it for %s after that", r.ID, when, s.opts.CancelGrace)
	}
	return app.Errorf(app.EFailedPrecondition, "the viewing of reservation %d was at %s and can no longer become %s", r.ID, when, to)
}

// RemindReservation sends a reminder of a confirmed viewing to both parties
// now (type 4). Either party may ask.
func (s *Service) RemindReservation(ctx context.Context, id, actor int64) (*app.Reservation, error) {
	if err := checkReservationID(id); err != nil {
		return nil, err
	}
	r, err := s.store.Reservation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := partiesOnly(r, actor); err != nil {
		return nil, err
	}
	if r.Status != app.StatusConfirmed {
		return nil, app.Errorf(app.EFailedPrecondition, "reservation %d is %s; only a confirmed viewing is reminded", id, r.Status)
	}
	if !s.opts.Now().Before(r.ReserveTime) {
		return nil, app.Errorf(app.EFailedPrecondition, "the viewing of reservation %d was at %s; only a coming viewing is reminded",
			id, r.ReserveTime.In(s.opts.Location).Format(app.TimeLayout))
	}
	if err := s.allow(ctx, LimitRemind, actor); err != nil {
		return nil, err
	}
	if err := s.remind(ctx, r, ""); err != nil {
		return nil, err
	}
	return r, nil
}

// SendReminder sends the scheduled reminder named key of reservation id to
// both parties, if the reservation is confirmed, and reports whether it
// did: false for a cancelled or rejected one. A pending one is
// EFailedPrecondition: its confirm scheduled the reminder and has not
// committed yet, so the task should come back. The messages' ids derive
// from key, so a retried task reminds nobody twice: the outbox ignores a
// known id and the publisher delivers an id once.
func (s *Service) SendReminder(ctx context.Context, id int64, key string) (bool, error) {
	r, err := s.store.Reservation(ctx, id)
	if err != nil {
		return false, err
	}
	switch r.Status {
	case app.StatusConfirmed:
		return true, s.remind(ctx, r, key)
	case app.StatusPending:
		return false, app.Errorf(app.EFailedPrecondition, "reservation %d is still pending", id)
	default:
		return false, nil
	}
}

// remind stores and publishes the type-4 messages of r. An empty key gives
// fresh message ids.
func (s *Service) remind(ctx context.Context, r *app.Reservation, key string) error {
	s.inZone(r)
	msgs, err := s.messages(r, eventReminder, 0, key)
	if err != nil {
		return err
	}
	if err := s.store.AddMessages(ctx, msgs, s.opts.Now()); err != nil {
		return err
	}
	s.deliver(ctx, msgs)
	return nil
}
