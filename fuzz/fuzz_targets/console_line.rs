//! Fuzzes the console line parser and option checking: whatever a user types, metricord answers
//! with a reply or a `UserError`, never a panic.
//!
//! Each input is read as one typed line (lossy UTF-8), parsed with `console::parse_line`; a
//! parsed line's command is resolved among every command of every plugin, its options checked
//! against the spec and, for a metric command whose options pass, the metric calculated with no
//! stored history. The raw input and every option value also go through `numbers::parse_count`
//! and `period::Period::parse`.

#![no_main]

use std::sync::LazyLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use metricord::command::{CommandSpec, File, Kind, Value};
use metricord::console::parse_line;
use metricord::numbers::parse_count;
use metricord::period::Period;
use metricord::plugin::{History, Registry};

/// Every plugin enabled, as with the default settings, built once for the whole run.
static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let names: Vec<String> = metricord::plugins::all()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    Registry::new(&names)
});

static COMMANDS: LazyLock<Vec<CommandSpec>> =
    LazyLock::new(|| metricord::dispatcher::commands(&REGISTRY));

/// A fixed "today", so a crash reproduces whatever the date of the rerun.
static TODAY: LazyLock<NaiveDate> =
    LazyLock::new(|| NaiveDate::from_ymd_opt(2026, 3, 31).expect("a valid date"));

fn free_text(text: &str) {
    let _ = parse_count(text);
    let _ = Period::parse(text, *TODAY);
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    free_text(&input);

    let Ok(Some(line)) = parse_line(&input) else {
        return;
    };
    for (_, value) in &line.options {
        if let Value::Text(text) = value {
            free_text(text);
        }
    }
    let Ok(spec) = CommandSpec::resolve(&COMMANDS, &line.command) else {
        return;
    };
    // The console reads an attachment option's value as a local path; here its text stands in
    // for the file's bytes, so no input ever touches the filesystem.
    let options = line
        .options
        .into_iter()
        .map(|(name, value)| {
            let attachment = spec
                .options
                .iter()
                .any(|o| o.name == name && o.kind == Kind::Attachment);
            match value {
                Value::Text(text) if attachment => (
                    name,
                    Value::File(File {
                        name: "input.csv".to_string(),
                        bytes: text.into_bytes(),
                    }),
                ),
                value => (name, value),
            }
        })
        .collect();
    let Ok(options) = spec.check(options) else {
        return;
    };
    if let Some(plugin) = REGISTRY.by_command(&line.command) {
        let _ = plugin.calculate(&options, &History::default());
    }
});
