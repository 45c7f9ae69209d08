//! The settings file: defaults, wording of mistakes, and the typed values it loads into.

use super::*;
use secrecy::ExposeSecret;

#[test]
fn the_shipped_config_file_holds_exactly_the_defaults() {
    let text = include_str!("../../config/metricord.toml");
    let shipped = Settings::parse(text, Path::new("config/metricord.toml")).unwrap();
    assert_eq!(format!("{shipped:?}"), format!("{:?}", Settings::default()));
}

#[test]
fn typos_and_bad_values_name_the_setting() {
    let path = Path::new("x.toml");
    let err = Settings::parse("timezon = \"UTC\"", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("timezon"), "{err}");
    let err = Settings::parse("timezone = \"Mars/Olympus\"", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("IANA"), "{err}");
    let err = Settings::parse("[plugins]\nenabled = [\"ctr\", \"klout\"]", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("klout"), "{err}");
    let err = Settings::parse("[database]\nsynchronous = \"sometimes\"", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("database.synchronous"), "{err}");
    let err = Settings::parse("[digest]\ncatch_up = \"soon\"", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("digest.catch_up"), "{err}");
    for (text, name) in [
        (
            "[collect]\nbluesky_url = \"public.api.bsky.app\"",
            "collect.bluesky_url",
        ),
        (
            "[collect]\nrequest_timeout = \"forever\"",
            "collect.request_timeout",
        ),
        (
            "[collect]\nrequest_timeout = \"1d\"",
            "collect.request_timeout",
        ),
        (
            "[collect]\nmastodon_per_minute = 0",
            "collect.mastodon_per_minute",
        ),
        ("[collect]\nbackfill_days = 0", "collect.backfill_days"),
        ("[collect]\npoll_interval = \"1m\"", "collect.poll_interval"),
    ] {
        let err = Settings::parse(text, path).unwrap_err().to_string();
        assert!(err.contains(name), "{text}: {err}");
    }
    let err = Settings::parse("[charts]\ntheme = \"pink\"", path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("charts.theme") && err.contains("\"dark\""),
        "{err}"
    );
    let err = Settings::parse("[digest]\nlease = \"0m\"", path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("digest.lease"), "{err}");
}

#[test]
fn a_database_url_of_an_unsupported_scheme_is_refused_with_the_accepted_forms() {
    let path = Path::new("x.toml");
    for url in ["mysql://root@127.0.0.1/db", "postgress://u@h/db"] {
        let err = Settings::parse(&format!("[database]\nurl = \"{url}\""), path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.url"), "{err}");
        assert!(
            err.contains("sqlite://PATH") && err.contains("postgres://"),
            "{err}"
        );
    }
    let err = Settings::load(None, Some("mysql://root:hunter2@db/x".into()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"mysql://\"") && !err.contains("hunter2"),
        "{err}"
    );
    for (url, backend) in [
        ("data/m.db", Backend::Sqlite),
        ("sqlite://data/m.db", Backend::Sqlite),
        ("sqlite::memory:", Backend::Sqlite),
        ("postgres://u@h/db", Backend::Postgres),
        ("postgresql://u@h/db", Backend::Postgres),
    ] {
        let settings = DatabaseSettings {
            url: url.into(),
            ..DatabaseSettings::default()
        };
        assert_eq!(settings.backend(), Ok(backend), "{url}");
    }
}

#[test]
fn synchronous_set_for_postgresql_is_refused_as_meaningless_there() {
    let text = "[database]\nurl = \"postgres://u@h/db\"\nsynchronous = \"normal\"";
    let err = Settings::parse(text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("database.synchronous") && err.contains("SQLite only"),
        "{err}"
    );
    let text = "[database]\nurl = \"postgres://u@h/db\"\nsynchronous = \"full\"";
    assert!(Settings::parse(text, Path::new("x.toml")).is_ok());
}

#[test]
fn a_database_password_never_shows_in_the_settings_debug_output() {
    for url in [
        "postgres://bot:hunter2@db.internal:5432/metricord",
        "postgres://bot@db.internal/metricord?sslmode=require&password=hunter2",
    ] {
        let settings = DatabaseSettings {
            url: url.into(),
            ..DatabaseSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("***"),
            "{shown}"
        );
        assert!(shown.contains("db.internal"), "{shown}");
    }
}

#[test]
fn the_youtube_key_never_shows_in_debug_output() {
    let text = "[collect]\nyoutube_api_key = \"AIzaSyTHE-SECRET-KEY\"";
    let settings = Settings::parse(text, Path::new("x.toml")).unwrap();
    assert_eq!(
        settings.collect.youtube_api_key.expose_secret(),
        "AIzaSyTHE-SECRET-KEY"
    );
    assert!(!format!("{settings:?}").contains("THE-SECRET"));
}

#[test]
fn settings_are_typed_as_they_are_read() {
    let path = Path::new("x.toml");
    let text = "timezone = \"Europe/Bucharest\"\n[digest]\ncatch_up = \"30m\"\n[database]\nsynchronous = \"normal\"\n[charts]\ntheme = \"dark\"\n[collect]\nrequest_timeout = \"45s\"";
    let settings = Settings::parse(text, path).unwrap();
    assert_eq!(settings.charts.theme, Theme::Dark);
    assert_eq!(Settings::default().charts.theme, Theme::Light);
    assert_eq!(settings.timezone, Tz::Europe__Bucharest);
    assert_eq!(settings.digest.catch_up, Duration::minutes(30));
    assert_eq!(settings.collect.request_timeout, Duration::seconds(45));
    assert_eq!(settings.database.synchronous, Synchronous::Normal);
}
