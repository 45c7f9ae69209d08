//! The option checks of [`CommandSpec`]: console text typed by the spec, counts in every form
//! people write them, names by the name rule, and each refusal worded with what is accepted.

use super::*;

fn spec() -> CommandSpec {
    CommandSpec {
        name: "ctr",
        description: "Click-through rate",
        options: vec![
            OptionSpec::count("clicks", "Clicks").required(),
            OptionSpec::new("platform", "Platform", Kind::Choice(PLATFORMS.to_vec())),
            OptionSpec::new("date", "Day", Kind::Date),
        ],
        ..CommandSpec::default()
    }
}

fn text(name: &str, value: &str) -> (String, Value) {
    (name.to_string(), Value::Text(value.to_string()))
}

#[test]
fn console_text_is_typed_by_the_spec() {
    let options = spec()
        .check(vec![
            text("clicks", "20"),
            text("platform", "Instagram"),
            text("date", "2026-11-02"),
        ])
        .unwrap();
    assert_eq!(options.integer("clicks"), Some(20));
    assert_eq!(options.text("platform"), Some("instagram"));
    assert_eq!(options.date("date"), NaiveDate::from_ymd_opt(2026, 11, 2));
}

#[test]
fn negative_and_oversized_counts_are_refused_with_the_accepted_range() {
    for bad in ["-1", "100000000000000", "9007199254740991"] {
        let err = spec().check(vec![text("clicks", bad)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`clicks` must be a whole number from 0 to 99,999,999,999,999."
        );
    }
    for bad in [
        Value::Integer(MAX_COUNT + 1),
        Value::Number(9007199254740991.0),
    ] {
        let err = spec().check(vec![("clicks".into(), bad)]).unwrap_err();
        assert!(err.to_string().ends_with("to 99,999,999,999,999."), "{err}");
    }
}

#[test]
fn a_count_option_reads_the_forms_people_write_and_says_why_it_refuses_one() {
    for (typed, value) in [
        ("12,500", 12_500),
        ("4.2K", 4_200),
        ("99,999,999,999,999", MAX_COUNT),
    ] {
        let options = spec().check(vec![text("clicks", typed)]).unwrap();
        assert_eq!(options.integer("clicks"), Some(value), "{typed}");
    }
    let err = spec().check(vec![text("clicks", "1.5")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`clicks` must be a whole number from 0 to 99,999,999,999,999: \"1.5\" has a decimal point, but a count is whole: write thousands with commas (1,000) or with K, M or B (1.5K)."
    );
    for bad in ["1,5", "12,50", "twenty", "", "1e3", "12 500", "4%"] {
        let err = spec().check(vec![text("clicks", bad)]).unwrap_err();
        assert!(
            matches!(
                err,
                UserError::InvalidCount {
                    option: "clicks",
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn unknown_missing_and_repeated_options_are_named() {
    let err = spec().check(vec![text("click", "1")]).unwrap_err();
    assert!(err.to_string().contains("no option `click`"), "{err}");
    let err = spec().check(vec![]).unwrap_err();
    assert!(err.to_string().starts_with("`clicks` is required"), "{err}");
    let err = spec()
        .check(vec![text("clicks", "1"), text("clicks", "2")])
        .unwrap_err();
    assert_eq!(
        err,
        UserError::DuplicateOption {
            option: "clicks".into()
        }
    );
}

#[test]
fn a_name_option_is_checked_and_normalised_by_the_name_rule() {
    let decomposed = "Cafe\u{301} ☕";
    let spec = CommandSpec {
        name: "brand add",
        options: vec![OptionSpec::new("name", "Name", Kind::Name)],
        ..CommandSpec::default()
    };
    let err = spec.check(vec![text("name", "\u{200b}")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`name` must be a name of 1 to 100 characters with something visible in it: it has nothing visible in it."
    );
    let options = spec.check(vec![text("name", decomposed)]).unwrap();
    assert_eq!(options.text("name"), Some("Caf\u{e9} ☕"));
}

#[test]
fn malformed_dates_and_platforms_are_refused() {
    for (name, value) in [
        ("date", "-0001-01-01"),
        ("date", "+262143-01-01"),
        ("date", "2026-02-30"),
        ("date", "30/11/2026"),
        ("platform", "myspace"),
    ] {
        assert!(
            spec()
                .check(vec![text("clicks", "1"), text(name, value)])
                .is_err()
        );
    }
}
