-- +goose Up
-- App installations that receive mobile push. A provider's token belongs
-- to one user at a time: registering it again (for anyone) updates its row.
CREATE TABLE devices (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    user_id    BIGINT       NOT NULL,
    platform   VARCHAR(8)   CHARACTER SET ascii NOT NULL,
    token      VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    app        VARCHAR(128) NOT NULL DEFAULT '',
    locale     VARCHAR(35)  CHARACTER SET ascii NOT NULL DEFAULT '',
    created_at DATETIME(3)  NOT NULL,
    updated_at DATETIME(3)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_devices_token (platform, token),
    -- a user's devices, oldest registration first (the bound evicts it)
    KEY idx_devices_user (user_id, updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE devices;
