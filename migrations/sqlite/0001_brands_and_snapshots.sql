-- Brands and the numbers logged for them. Every row carries the Discord guild it belongs to, so
-- one server never sees another's data; the console's own local guild is guild 0.

CREATE TABLE brands (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    -- The name as first written, for display.
    name       TEXT    NOT NULL,
    -- Trimmed and lowercased: brand names match case-insensitively.
    name_key   TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (guild_id, name_key)
);

-- One stored input of a metric ("clicks", "followers", ...) for a brand, platform and day.
-- Logging the same key again replaces the value, so the key is the primary key.
CREATE TABLE snapshots (
    guild_id  INTEGER NOT NULL,
    brand_id  INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    platform  TEXT    NOT NULL,
    series    TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    value     INTEGER NOT NULL CHECK (value >= 0),
    logged_by INTEGER NOT NULL,
    logged_at TEXT    NOT NULL,
    source    TEXT    NOT NULL CHECK (source IN ('command', 'import')),
    -- Day before series and platform: a brand's period is one contiguous range of the key.
    PRIMARY KEY (guild_id, brand_id, day, series, platform)
) WITHOUT ROWID;

-- The same series across a guild's brands on one day: share of voice. It holds the value too,
-- so that query never visits the table.
CREATE INDEX snapshots_by_day ON snapshots (guild_id, series, platform, day, value);
