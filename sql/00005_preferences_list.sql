-- +goose Up
-- A message type the user turned off in the app may still be kept in the
-- user's list (stored already seen and read, delivered to no session).
ALTER TABLE user_type_preferences ADD COLUMN list BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE user_type_preferences DROP COLUMN list;
