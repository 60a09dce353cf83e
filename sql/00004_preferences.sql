-- +goose Up
-- Notification preferences per user. A user without a row here has the
-- defaults: every message type in the app and by mobile push, time zone
-- UTC, no quiet hours.
CREATE TABLE user_preferences (
    user_id     BIGINT      NOT NULL,
    time_zone   VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT 'UTC',
    -- quiet hours for mobile push, local minutes after midnight; NULL: none
    quiet_start SMALLINT    NULL,
    quiet_end   SMALLINT    NULL,
    updated_at  DATETIME(3) NOT NULL,
    PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The channels of one message type (app.MessageType) for one user. A type
-- without a row is on in both.
CREATE TABLE user_type_preferences (
    user_id  BIGINT  NOT NULL,
    msg_type TINYINT NOT NULL,
    in_app   BOOLEAN NOT NULL,
    push     BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, msg_type)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The reservations whose viewing reminders a user does not want.
CREATE TABLE reminder_opt_outs (
    user_id        BIGINT NOT NULL,
    reservation_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, reservation_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE reminder_opt_outs;
DROP TABLE user_type_preferences;
DROP TABLE user_preferences;
