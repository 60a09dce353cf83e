-- +goose Up
-- A recipient's outbox rows in id order: after a commit the service
-- publishes its recipients' rows oldest first, so that a message never
-- overtakes an older one still waiting for the relay.
CREATE INDEX idx_outbox_user ON notification_outbox (user_id, id);

-- +goose Down
DROP INDEX idx_outbox_user ON notification_outbox;
