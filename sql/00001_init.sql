-- +goose Up
-- Houses that tenants book viewings of. price is yuan per month, area m².
CREATE TABLE houses (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    landlord_id BIGINT       NOT NULL,
    title       VARCHAR(128) NOT NULL,
    city        VARCHAR(32)  NOT NULL,
    district    VARCHAR(32)  NOT NULL,
    price       INT          NOT NULL,
    rooms       TINYINT      NOT NULL,
    area        DECIMAL(7,2) NOT NULL,
    tags        VARCHAR(255) NOT NULL DEFAULT '',
    created_at  DATETIME(3)  NOT NULL,
    PRIMARY KEY (id),
    -- recommendation filters (city, district, price range)
    KEY idx_houses_city_district_price (city, district, price),
    KEY idx_houses_landlord (landlord_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Viewing reservations. reserve_time is UTC; version is bumped by every
-- transition (optimistic concurrency).
CREATE TABLE reservations (
    id           BIGINT       NOT NULL AUTO_INCREMENT,
    house_id     BIGINT       NOT NULL,
    tenant_id    BIGINT       NOT NULL,
    landlord_id  BIGINT       NOT NULL,
    house_title  VARCHAR(128) NOT NULL,
    tenant_name  VARCHAR(64)  NOT NULL,
    reserve_time DATETIME     NOT NULL,
    status       VARCHAR(16)  NOT NULL,
    reason       VARCHAR(255) NOT NULL DEFAULT '',
    cancelled_by BIGINT       NOT NULL DEFAULT 0,
    version      BIGINT       NOT NULL DEFAULT 1,
    created_at   DATETIME(3)  NOT NULL,
    updated_at   DATETIME(3)  NOT NULL,
    -- 1 while the reservation holds its slot, NULL after: NULLs never clash
    -- in a unique key, so only active duplicates are refused.
    active_slot  TINYINT AS (IF(status IN ('pending', 'confirmed'), 1, NULL)) STORED,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_reservations_active (tenant_id, house_id, reserve_time, active_slot),
    -- list by tenant / landlord, optional status, newest first
    KEY idx_reservations_tenant (tenant_id, status, id),
    KEY idx_reservations_landlord (landlord_id, status, id),
    -- popularity: reservations per house since a time
    KEY idx_reservations_created_house (created_at, house_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Transactional outbox: a notification is written in the same transaction
-- as the state change it reports and deleted once Redis has it, so a crash
-- between commit and publish loses nothing.
CREATE TABLE notification_outbox (
    id         BIGINT      NOT NULL AUTO_INCREMENT,
    msg_id     CHAR(32)    NOT NULL,
    user_id    BIGINT      NOT NULL,
    payload    MEDIUMTEXT  NOT NULL,
    created_at DATETIME(3) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uniq_outbox_msg (msg_id),
    KEY idx_outbox_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE notification_outbox;
DROP TABLE reservations;
DROP TABLE houses;
