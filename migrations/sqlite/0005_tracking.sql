-- Accounts tracked on Bluesky, Mastodon and YouTube, the posts collected from them, and
-- snapshots that say when a value was collected rather than typed. Times are Unix seconds
-- (UTC), computed in Rust, as in the digest tables.

-- A snapshot's source gains 'api' (collected); 'command' and 'import' are what a person gave.
-- SQLite cannot change a CHECK constraint, so the table is rebuilt with the same rows.
CREATE TABLE snapshots_with_api (
    guild_id       INTEGER NOT NULL,
    brand_id       INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    platform       TEXT    NOT NULL,
    series         TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    value          INTEGER NOT NULL CHECK (value >= 0),
    logged_by      INTEGER NOT NULL,
    logged_at      TEXT    NOT NULL,
    source         TEXT    NOT NULL CHECK (source IN ('command', 'import', 'api')),
    replaced_value INTEGER,
    PRIMARY KEY (guild_id, brand_id, day, series, platform)
) WITHOUT ROWID;

INSERT INTO snapshots_with_api
    (guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source, replaced_value)
SELECT guild_id, brand_id, platform, series, day, value, logged_by, logged_at, source, replaced_value
FROM snapshots;

DROP TABLE snapshots;
ALTER TABLE snapshots_with_api RENAME TO snapshots;
CREATE INDEX snapshots_by_day ON snapshots (guild_id, series, platform, day, value);

CREATE TABLE tracked_accounts (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    brand_id     INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    network      TEXT    NOT NULL CHECK (network IN ('bluesky', 'mastodon', 'youtube')),
    -- The stable key polled (a DID, user@instance, a channel id): handles can change.
    account      TEXT    NOT NULL,
    handle       TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    link         TEXT    NOT NULL,
    -- Followers at the latest successful poll; NULL when the account hides them.
    followers    INTEGER,
    added_by     INTEGER NOT NULL,
    added_at     INTEGER NOT NULL,
    last_success INTEGER,
    last_failure INTEGER,
    -- Why the latest poll failed; NULL once a poll succeeds again.
    failure      TEXT,
    -- When the account is due; a failing one waits up to a day.
    next_poll    INTEGER NOT NULL,
    -- A process polling it holds it until then, so that several processes poll it once.
    claimed_until INTEGER,
    UNIQUE (guild_id, network, account)
);

CREATE INDEX tracked_accounts_due ON tracked_accounts (next_poll);

-- Each collected post once per server and network, with its latest counts. A NULL count is one
-- the network does not publish (YouTube shares), never a made-up 0.
CREATE TABLE collected_posts (
    guild_id      INTEGER NOT NULL,
    brand_id      INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    network       TEXT    NOT NULL,
    post_id       TEXT    NOT NULL,
    link          TEXT    NOT NULL,
    published     INTEGER NOT NULL,
    -- The day it was published in the configured timezone: the day its numbers count on.
    day           TEXT    NOT NULL,
    applause      INTEGER,
    conversation  INTEGER,
    amplification INTEGER,
    last_seen     INTEGER NOT NULL,
    PRIMARY KEY (guild_id, network, post_id)
) WITHOUT ROWID;

CREATE INDEX collected_posts_by_day ON collected_posts (guild_id, brand_id, network, day);
CREATE INDEX collected_posts_by_published ON collected_posts (guild_id, brand_id, published);
