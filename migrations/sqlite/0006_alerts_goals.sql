-- Alert rules and goals, and the events each posts. An event is claimed by inserting its row
-- before anything is posted (keyed by rule and day, plus the post for a breakout, or by goal), so two processes, or one
-- restarted, never post it twice; its message is stored with the claim, so a claim taken over
-- after a restart posts the same words. Removing a brand removes its rules and goals.

CREATE TABLE alert_rules (
    id             INTEGER PRIMARY KEY,
    guild_id       INTEGER NOT NULL,
    brand_id       INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    channel_id     INTEGER NOT NULL,
    -- The metric plugin's command name, such as `mentions` or `engagement-rate`.
    metric         TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('spike', 'threshold', 'breakout')),
    direction      TEXT    NOT NULL CHECK (direction IN ('up', 'down', 'both')),
    -- spike: the robust z beyond which a day fires; threshold: the value crossed;
    -- breakout: the standard deviations above the mean post rate beyond which a post fires.
    level          REAL    NOT NULL,
    -- breakout: whose posts make the mean, the brand's or its landscapes'; NULL otherwise.
    scope          TEXT    CHECK (scope IN ('brand', 'landscape')),
    -- The one role the alert may ping; NULL pings nobody.
    role_id        INTEGER,
    cooldown_hours INTEGER NOT NULL CHECK (cooldown_hours >= 0),
    created_by     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    -- Unix seconds of the latest event claimed: the cooldown runs from it.
    last_fired     INTEGER,
    -- Why posting stopped (the channel is gone or forbidden); NULL while the rule works.
    failing        TEXT
);

CREATE INDEX alert_rules_by_guild ON alert_rules (guild_id, brand_id);

CREATE TABLE alert_events (
    rule_id    INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('claimed', 'posted', 'failed')),
    claimed_at INTEGER NOT NULL,
    message    TEXT    NOT NULL,
    -- A breakout's post (its collected `post_id`); '' for a rule's day.
    post_id    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (rule_id, day, post_id)
) WITHOUT ROWID;

CREATE TABLE goals (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    brand_id    INTEGER NOT NULL REFERENCES brands (id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,
    metric      TEXT    NOT NULL,
    start_day   TEXT    NOT NULL,
    start_value REAL    NOT NULL,
    target      REAL    NOT NULL,
    deadline    TEXT    NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX goals_by_guild ON goals (guild_id, brand_id);

-- The one closing word on a goal: met, or its deadline passed without it.
CREATE TABLE goal_events (
    goal_id    INTEGER PRIMARY KEY REFERENCES goals (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('met', 'missed')),
    state      TEXT    NOT NULL CHECK (state IN ('claimed', 'posted', 'failed')),
    claimed_at INTEGER NOT NULL,
    message    TEXT    NOT NULL
);
