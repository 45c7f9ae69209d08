-- Weekly digest schedules, and every run of them. A run is claimed by inserting its row before
-- anything is posted, so two processes, or one restarted, never post the same run twice.

CREATE TABLE digest_schedules (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    cron       TEXT    NOT NULL,
    timezone   TEXT    NOT NULL,
    -- NULL: every brand of the guild.
    landscape  TEXT,
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    -- The latest scheduled time (Unix seconds, UTC) already claimed or skipped: only later
    -- times are due, which also keeps a repeated fall-back hour from firing twice.
    last_fire  INTEGER NOT NULL,
    -- Why posting stopped (the channel is gone or forbidden); NULL while the schedule works.
    failing    TEXT
);

CREATE INDEX digest_schedules_by_guild ON digest_schedules (guild_id);

CREATE TABLE digest_runs (
    schedule_id  INTEGER NOT NULL REFERENCES digest_schedules (id) ON DELETE CASCADE,
    -- Unix seconds, UTC.
    scheduled_at INTEGER NOT NULL,
    -- 'claimed' (being posted), 'posted', 'skipped' (missed beyond the catch-up window),
    -- 'failed' (the channel refused it).
    state        TEXT    NOT NULL CHECK (state IN ('claimed', 'posted', 'skipped', 'failed')),
    claimed_at   INTEGER NOT NULL,
    detail       TEXT,
    PRIMARY KEY (schedule_id, scheduled_at)
) WITHOUT ROWID;
