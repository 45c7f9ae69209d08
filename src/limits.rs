//! Discord's limits, in one place.
//!
//! Every front end speaks Discord's shapes (the console prints the same replies), so the limits
//! live here, below everything that must respect them: names and descriptions of commands,
//! option counts, suggestions, integers, attachments, and the sizes of messages. The Discord
//! front end fits each reply inside them before sending it (`discord/fit.rs`).

pub const CONTENT: usize = 2000;
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const EMBED_TOTAL: usize = 6000;
pub const TITLE: usize = 256;
pub const DESCRIPTION: usize = 4096;
pub const FIELDS: usize = 25;
pub const FIELD_NAME: usize = 256;
pub const FIELD_VALUE: usize = 1024;
pub const FOOTER: usize = 2048;
/// Command, subcommand and option names: 1 to 32 of `a-z`, `0-9`, `-` and `_`.
pub const COMMAND_NAME: usize = 32;
/// Command and option descriptions, 1 to 100 characters.
pub const COMMAND_DESCRIPTION: usize = 100;
pub const OPTIONS: usize = 25;
/// Choices of an option, and suggestions offered as the user types.
pub const CHOICES: usize = 25;
/// The name and value of a suggestion.
pub const CHOICE_TEXT: usize = 100;
/// Suggestions offered for an option as the user types: Discord shows at most 25.
pub const SUGGESTIONS: usize = CHOICES;
/// The largest count metricord accepts, in every option, file and list: a hundred trillion
/// minus one, far above any account's daily figures. It is chosen so that no sum metricord takes
/// can overflow: a brand's series over the longest period (3,660 days) on all ten platforms is
/// under 3.66 × 10^18, an engagement-rate denominator (followers × days) as much, all within
/// SQLite's and Rust's 64-bit integers (9.22 × 10^18); the three parts of engagement added
/// together (up to 1.1 × 10^19 at these extremes) saturate rather than wrap. It is also within the 2^53 that Discord's integer options carry.
pub const MAX_COUNT: i64 = 99_999_999_999_999;
/// Largest file metricord reads for an option, from Discord or from disk (a million-row CSV is
/// about 40 MB).
pub const MAX_ATTACHMENT_BYTES: u32 = 64 * 1024 * 1024;

/// Whether `name` is a valid command, subcommand or option name.
pub fn valid_name(name: &str) -> bool {
    (1..=COMMAND_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether `description` fits a command or option description.
pub fn valid_description(description: &str) -> bool {
    (1..=COMMAND_DESCRIPTION).contains(&description.chars().count())
}
