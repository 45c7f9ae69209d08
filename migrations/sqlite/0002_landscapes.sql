-- Competitive landscapes: named sets of brands compared together ("coffee": our brand and its
-- competitors). A brand can sit in several.

ALTER TABLE brands ADD COLUMN competitor INTEGER NOT NULL DEFAULT 0;

CREATE TABLE landscapes (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    name_key TEXT    NOT NULL,
    UNIQUE (guild_id, name_key)
);

CREATE TABLE landscape_brands (
    landscape_id INTEGER NOT NULL REFERENCES landscapes (id) ON DELETE CASCADE,
    brand_id     INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    PRIMARY KEY (landscape_id, brand_id)
) WITHOUT ROWID;

CREATE INDEX landscape_brands_by_brand ON landscape_brands (brand_id);
