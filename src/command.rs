//! The transport-neutral shape of a command: what a command declares about itself
//! ([`CommandSpec`]), what arrives when someone runs it ([`Invocation`]), and what goes back
//! ([`Reply`]).
//!
//! Front ends translate to and from these types and nothing else: the Discord adapter turns a
//! spec into a slash-command registration and an interaction into an invocation; the console
//! parses a typed line into one. Options arrive either already typed (Discord) or as raw text
//! (the console), and [`CommandSpec::check`] turns both into validated [`Options`] against the
//! declared kinds and limits, so every front end rejects the same inputs with the same words.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::error::{CountProblem, UserError};
use crate::limits::MAX_COUNT;
use crate::names::{NAME_LEN, check_name};
use crate::numbers::{parse_count, thousands};

/// A calendar day written `YYYY-MM-DD`, in years 1900 to 9999. chrono alone also reads signed
/// and five-digit years, which sort wrongly as text and overflow date arithmetic.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let year_digits = text.split('-').next()?;
    if year_digits.len() != 4 || !year_digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=9999).contains(&d.year()))
}

/// Platform of a snapshot logged without `platform:`; it counts in all-platform totals, and
/// replies say so.
pub const DEFAULT_PLATFORM: &str = "other";

/// Platforms a snapshot can be logged for, as offered in the `platform` option.
pub const PLATFORMS: &[&str] = &[
    "instagram",
    "facebook",
    "x",
    "tiktok",
    "linkedin",
    "youtube",
    "threads",
    "bluesky",
    "mastodon",
    "other",
];

/// A command as it describes itself to the front ends.
#[derive(Debug, Clone, Default)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub options: Vec<OptionSpec>,
    /// `/brand add`, `/brand list`: a command with subcommands takes no options of its own.
    pub subcommands: Vec<CommandSpec>,
    /// Commands that change shared data: registered with Manage Server as the default member
    /// permission, and checked again by the dispatcher before acting.
    pub manages_data: bool,
    /// Commands that may take longer than Discord's 3-second answer window (imports, charts,
    /// long reports): the Discord adapter acknowledges them first and edits the answer in.
    pub slow: bool,
}

/// One option of a command.
#[derive(Debug, Clone)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Where values are suggested from as the user types.
    pub suggest: Option<Suggest>,
}

/// Sources of suggestions for an option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Suggest {
    /// The guild's brands.
    Brands,
    /// The guild's landscapes.
    Landscapes,
}

/// The type of an option, with its limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Integer {
        min: i64,
        max: i64,
    },
    Text {
        max_len: u16,
    },
    /// A brand or landscape name, checked by [`check_name`](crate::names::check_name); a text
    /// option on Discord.
    Name,
    Choice(Vec<&'static str>),
    Boolean,
    /// A calendar day written `YYYY-MM-DD`; a text option on Discord.
    Date,
    /// A file: an attachment on Discord, a local path in the console.
    Attachment,
    /// A text channel of the server: a channel picker on Discord, `#id` or an id elsewhere.
    Channel,
    /// A role of the server: a role picker on Discord, `<@&id>` or an id elsewhere.
    Role,
}

/// An option's value as a front end delivers it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i64),
    Number(f64),
    Boolean(bool),
    /// Text as typed: Discord's string options, and every value the console reads.
    Text(String),
    File(File),
}

/// A file going in (an attachment option) or out (a chart, an export).
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Options after [`CommandSpec::check`]: each one declared, of its declared kind, within its
/// limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options(BTreeMap<&'static str, Checked>);

#[derive(Debug, Clone, PartialEq)]
enum Checked {
    Integer(i64),
    Text(String),
    Boolean(bool),
    Date(NaiveDate),
    File(File),
}

/// Who ran a command, where, and with what.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `None` in a direct message; every command needs a guild.
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    /// Whether the member holds Manage Server in this channel, as Discord reported it with the
    /// interaction (never taken from the command's registration, which admins can change).
    pub can_manage_guild: bool,
    /// The command's name, with its subcommand after a space: `ctr`, `brand add`.
    pub command: String,
    pub options: Vec<(String, Value)>,
    /// The largest file a reply may carry here (Discord's upload limit for the server); `None`
    /// where any size can be written (the console, the command line).
    pub upload_limit: Option<usize>,
}

/// What a command answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub content: String,
    pub embeds: Vec<Embed>,
    pub attachments: Vec<File>,
    /// Only the person who ran the command sees it: used for errors.
    pub ephemeral: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embed {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

impl Reply {
    pub fn error(message: String) -> Reply {
        Reply {
            content: message,
            ephemeral: true,
            ..Reply::default()
        }
    }

    /// A public answer in plain text.
    pub fn text(content: String) -> Reply {
        Reply {
            content,
            ..Reply::default()
        }
    }

    pub fn embed(embed: Embed) -> Reply {
        Reply {
            embeds: vec![embed],
            ..Reply::default()
        }
    }
}

impl Field {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            name: name.into(),
            value: value.into(),
            inline: false,
        }
    }

    pub fn inline(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field {
            inline: true,
            ..Field::new(name, value)
        }
    }
}

impl OptionSpec {
    pub fn new(name: &'static str, description: &'static str, kind: Kind) -> OptionSpec {
        OptionSpec {
            name,
            description,
            kind,
            required: false,
            suggest: None,
        }
    }

    /// A count: a whole number from 0 to [`MAX_COUNT`], typed in any of the forms
    /// [`parse_count`] reads.
    pub fn count(name: &'static str, description: &'static str) -> OptionSpec {
        OptionSpec::new(
            name,
            description,
            Kind::Integer {
                min: 0,
                max: MAX_COUNT,
            },
        )
    }

    /// An option naming a brand, suggested from the guild's brands.
    pub fn brand(name: &'static str, description: &'static str) -> OptionSpec {
        OptionSpec {
            suggest: Some(Suggest::Brands),
            ..OptionSpec::new(name, description, Kind::Name)
        }
    }

    /// An option naming a landscape, suggested from the guild's landscapes.
    pub fn landscape(description: &'static str) -> OptionSpec {
        OptionSpec {
            suggest: Some(Suggest::Landscapes),
            ..OptionSpec::new("landscape", description, Kind::Name)
        }
    }

    pub fn required(self) -> OptionSpec {
        OptionSpec {
            required: true,
            ..self
        }
    }

    /// What the option accepts, worded for an error message.
    pub fn accepts(&self) -> String {
        match &self.kind {
            Kind::Integer { min, max } => {
                format!(
                    "a whole number from {} to {}",
                    thousands(*min),
                    thousands(*max)
                )
            }
            Kind::Text { max_len } => format!("text of at most {max_len} characters"),
            Kind::Name => {
                format!("a name of 1 to {NAME_LEN} characters with something visible in it")
            }
            Kind::Choice(choices) => format!("one of {}", choices.join(", ")),
            Kind::Boolean => "true or false".to_string(),
            Kind::Date => "a date written YYYY-MM-DD".to_string(),
            Kind::Attachment => "a file".to_string(),
            Kind::Channel => "a channel of this server (#channel, or its id)".to_string(),
            Kind::Role => "a role of this server (@role, or its id)".to_string(),
        }
    }

    fn check(&self, value: Value) -> Result<Checked, UserError> {
        let invalid = || UserError::InvalidOption {
            option: self.name,
            accepts: self.accepts(),
        };
        match (&self.kind, value) {
            (Kind::Integer { min, max }, value) => {
                let n = match value {
                    Value::Integer(n) => n,
                    Value::Text(text) => match parse_count(&text) {
                        Ok(n) => n,
                        Err(CountProblem::Negative(_) | CountProblem::TooLarge { .. }) => {
                            return Err(invalid());
                        }
                        Err(problem) => {
                            return Err(UserError::InvalidCount {
                                option: self.name,
                                accepts: self.accepts(),
                                problem,
                            });
                        }
                    },
                    Value::Number(x) if x.fract() == 0.0 && x.abs() <= MAX_COUNT as f64 => x as i64,
                    _ => return Err(invalid()),
                };
                if n < *min || n > *max {
                    return Err(invalid());
                }
                Ok(Checked::Integer(n))
            }
            (Kind::Boolean, Value::Boolean(b)) => Ok(Checked::Boolean(b)),
            (Kind::Boolean, Value::Text(text)) => match text.trim().to_lowercase().as_str() {
                "true" | "yes" => Ok(Checked::Boolean(true)),
                "false" | "no" => Ok(Checked::Boolean(false)),
                _ => Err(invalid()),
            },
            (Kind::Text { max_len }, Value::Text(text)) => {
                let text = text.trim();
                if text.is_empty() || text.chars().count() > usize::from(*max_len) {
                    return Err(invalid());
                }
                Ok(Checked::Text(text.to_string()))
            }
            (Kind::Name, Value::Text(text)) => match check_name(&text) {
                Ok(name) => Ok(Checked::Text(name.into_owned())),
                Err(problem) => Err(UserError::InvalidName {
                    option: self.name,
                    accepts: self.accepts(),
                    problem,
                }),
            },
            (Kind::Choice(choices), Value::Text(text)) => {
                let text = text.trim().to_lowercase();
                if !choices.contains(&text.as_str()) {
                    return Err(invalid());
                }
                Ok(Checked::Text(text))
            }
            (Kind::Date, Value::Text(text)) => {
                parse_day(&text).map(Checked::Date).ok_or_else(invalid)
            }
            (Kind::Attachment, Value::File(file)) => Ok(Checked::File(file)),
            (Kind::Channel, Value::Text(text)) => {
                let id = text.trim().trim_start_matches("<#").trim_end_matches('>');
                match id.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Checked::Text(n.to_string())),
                    _ => Err(invalid()),
                }
            }
            (Kind::Role, Value::Text(text)) => {
                let id = text.trim().trim_start_matches("<@&").trim_end_matches('>');
                match id.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Checked::Text(n.to_string())),
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }
}

impl CommandSpec {
    /// Validates raw options against this spec: every option known, given once, of its kind and
    /// within its limits, and every required option present.
    pub fn check(&self, options: Vec<(String, Value)>) -> Result<Options, UserError> {
        let mut checked = BTreeMap::new();
        for (name, value) in options {
            let spec = self.option(&name)?;
            if checked.insert(spec.name, spec.check(value)?).is_some() {
                return Err(UserError::DuplicateOption { option: name });
            }
        }
        self.all_required(|name| checked.contains_key(name))?;
        Ok(Options(checked))
    }

    /// The same checks as [`CommandSpec::check`], without taking the options: a front end asks
    /// before it acknowledges slow work. Files are not copied to be looked at.
    pub fn validate(&self, options: &[(String, Value)]) -> Result<(), UserError> {
        let mut seen = Vec::with_capacity(options.len());
        for (name, value) in options {
            let spec = self.option(name)?;
            match value {
                Value::File(_) if spec.kind == Kind::Attachment => {}
                // Anything but a file is a few bytes: checking a copy costs nothing.
                other => {
                    spec.check(other.clone())?;
                }
            }
            if seen.contains(&spec.name) {
                return Err(UserError::DuplicateOption {
                    option: name.clone(),
                });
            }
            seen.push(spec.name);
        }
        self.all_required(|name| seen.contains(&name))
    }

    fn option(&self, name: &str) -> Result<&OptionSpec, UserError> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| UserError::UnknownOption {
                command: self.name.to_string(),
                option: name.to_string(),
                known: self.option_list(),
            })
    }

    fn all_required(&self, given: impl Fn(&str) -> bool) -> Result<(), UserError> {
        match self.options.iter().find(|o| o.required && !given(o.name)) {
            Some(missing) => Err(UserError::MissingOption {
                option: missing.name,
                accepts: missing.accepts(),
            }),
            None => Ok(()),
        }
    }

    /// The spec of `path` (`ctr`, `brand add`) among `commands`.
    pub fn resolve<'a>(
        commands: &'a [CommandSpec],
        path: &str,
    ) -> Result<&'a CommandSpec, UserError> {
        let mut words = path.split_whitespace();
        let name = words.next().unwrap_or_default();
        let unknown = || UserError::UnknownCommand {
            name: path.to_string(),
        };
        let top = commands
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(unknown)?;
        match (words.next(), words.next()) {
            (None, _) if top.subcommands.is_empty() => Ok(top),
            (None, _) => Err(UserError::MissingSubcommand {
                command: name.to_string(),
                choices: top
                    .subcommands
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            (Some(sub), None) => top
                .subcommands
                .iter()
                .find(|c| c.name == sub)
                .ok_or_else(unknown),
            _ => Err(unknown()),
        }
    }

    fn option_list(&self) -> String {
        if self.options.is_empty() {
            return "no options".to_string();
        }
        self.options
            .iter()
            .map(|o| format!("`{}`", o.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Options {
    /// An integer option, if given.
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.0.get(name) {
            Some(Checked::Integer(n)) => Some(*n),
            _ => None,
        }
    }

    /// A text or choice option, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(Checked::Text(text)) => Some(text),
            _ => None,
        }
    }

    pub fn boolean(&self, name: &str) -> Option<bool> {
        match self.0.get(name) {
            Some(Checked::Boolean(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn file(&self, name: &str) -> Option<&File> {
        match self.0.get(name) {
            Some(Checked::File(file)) => Some(file),
            _ => None,
        }
    }

    /// A file option, taken out of the options: work that moves the file to another thread
    /// takes it rather than copying it.
    pub fn take_file(&mut self, name: &str) -> Option<File> {
        if !matches!(self.0.get(name), Some(Checked::File(_))) {
            return None;
        }
        match self.0.remove(name) {
            Some(Checked::File(file)) => Some(file),
            _ => None,
        }
    }

    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        match self.0.get(name) {
            Some(Checked::Date(day)) => Some(*day),
            _ => None,
        }
    }

    /// A required integer option. [`CommandSpec::check`] has already made sure it is there, but
    /// a plugin asking for an option its spec does not declare gets an error, not a panic.
    pub fn required_integer(&self, name: &'static str) -> Result<i64, UserError> {
        self.integer(name).ok_or(UserError::MissingOption {
            option: name,
            accepts: "a whole number".to_string(),
        })
    }
}

#[cfg(test)]
mod tests;
