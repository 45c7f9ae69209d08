//! The console front end: commands typed one per line, exactly as in Discord
//! (`/ctr clicks:20 impressions:100 brand:"Ballet West"`), answered as plain text.
//!
//! It runs against the same database and dispatcher as the bot, as an admin of a local guild of
//! its own (or of a Discord guild given with `--guild`), so operators can inspect and fix data and
//! new users can try metricord without a Discord token. It reads until end of input, piped or
//! interactive, and keeps going after an error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::command::{File, Invocation, Kind, Reply, Value};
use crate::dispatcher::Dispatcher;
use crate::error::{Error, Result, UserError};
use crate::files;
use crate::limits::MAX_ATTACHMENT_BYTES;

/// The guild the console acts in when no `--guild` is given. Discord ids are never 0.
pub const LOCAL_GUILD: u64 = 0;

/// A typed line: the command name and its options as raw text.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub command: String,
    pub options: Vec<(String, Value)>,
}

/// Parses a line as typed in Discord. Blank lines and `#` comments give `None`.
///
/// An option is `name:value`. A value runs to the next `name:` or the end of the line, so lists
/// such as `followers:1300000, 250000, 4.2K` need no quotes; a value in double quotes may hold
/// anything (`\"` for a quote, `\\` for a backslash).
pub fn parse_line(line: &str) -> Result<Option<Line>, UserError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let mut command = command.strip_prefix('/').unwrap_or(command).to_lowercase();
    if command.is_empty() {
        return Err(UserError::Syntax {
            problem: "a command name such as `/ctr` must come first".to_string(),
        });
    }
    let mut rest = rest.trim_start();
    // A subcommand is a bare word after the command: `/brand add name:Acme`.
    let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        command = format!("{command} {}", word.to_lowercase());
        rest = after.trim_start();
    }
    let mut options = Vec::new();
    while !rest.is_empty() {
        let Some((name, after)) = option_start(rest) else {
            let word = rest.split_whitespace().next().unwrap_or(rest);
            return Err(UserError::Syntax {
                problem: format!("`{word}` is not an option"),
            });
        };
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => quoted_value(quoted)?,
            None => {
                let end = next_option_at(after);
                (after[..end].trim().to_string(), &after[end..])
            }
        };
        options.push((name.to_lowercase(), Value::Text(value)));
        rest = after.trim_start();
    }
    Ok(Some(Line { command, options }))
}

/// `name:` at the start of `text`: the name and what follows the colon.
fn option_start(text: &str) -> Option<(&str, &str)> {
    let (name, after) = text.split_once(':')?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then_some((name, after))
}

/// Where the next `name:` starts in an unquoted value, or the end of it.
fn next_option_at(text: &str) -> usize {
    let mut at_boundary = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            at_boundary = true;
        } else if at_boundary {
            if option_start(&text[i..]).is_some() {
                return i;
            }
            at_boundary = false;
        }
    }
    text.len()
}

/// A value after its opening quote: the unescaped text and what follows the closing quote.
fn quoted_value(text: &str) -> Result<(String, &str), UserError> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) => value.push(escaped),
                None => break,
            },
            '"' => {
                let after = &text[i + 1..];
                if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                    return Err(UserError::Syntax {
                        problem: "a closing quote must be followed by a space".to_string(),
                    });
                }
                return Ok((value, after));
            }
            _ => value.push(c),
        }
    }
    Err(UserError::Syntax {
        problem: "a quote is not closed".to_string(),
    })
}

/// Writes a reply as plain text.
pub fn render(reply: &Reply) -> String {
    let mut out = String::new();
    if !reply.content.is_empty() {
        out.push_str(&reply.content);
        out.push('\n');
    }
    for embed in &reply.embeds {
        out.push_str(&embed.title);
        out.push('\n');
        if !embed.description.is_empty() {
            out.push_str(&plain(&embed.description));
            out.push('\n');
        }
        for field in &embed.fields {
            let value = plain(&field.value).replace('\n', "\n    ");
            out.push_str(&format!("  {}: {value}\n", field.name));
        }
        if let Some(footer) = &embed.footer {
            out.push_str(footer);
            out.push('\n');
        }
    }
    out
}

/// Text without the Markdown that Discord renders and a terminal would show as symbols.
fn plain(text: &str) -> String {
    text.replace("**", "").replace('`', "")
}

/// The longest line the console reads. A longer one is refused without ever being held whole,
/// so that `metricord console < /dev/zero` reads on in constant memory instead of aborting.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line of input, as [`LineReader`] delivers it.
#[derive(Debug, PartialEq)]
pub enum Input {
    Line(String),
    /// Longer than [`MAX_LINE_BYTES`]: its start was dropped, and the rest is skipped.
    TooLong,
    NotUtf8,
}

/// Reads lines of at most [`MAX_LINE_BYTES`] from a buffered input.
pub struct LineReader<R> {
    input: R,
    line: Vec<u8>,
    /// Inside a line already refused as too long: the rest of it is read and dropped.
    skipping: bool,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    pub fn new(input: R) -> LineReader<R> {
        LineReader {
            input,
            line: Vec::new(),
            skipping: false,
        }
    }

    /// The next line without its line ending, or `None` at the end of the input. A line too
    /// long is reported as soon as it passes the limit; what follows of it is dropped as it is
    /// read, up to its end.
    pub async fn next(&mut self) -> std::io::Result<Option<Input>> {
        self.line.clear();
        loop {
            let available = self.input.fill_buf().await?;
            if available.is_empty() {
                self.skipping = false;
                if self.line.is_empty() {
                    return Ok(None);
                }
                break;
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let part = &available[..newline.unwrap_or(available.len())];
            let used = part.len() + usize::from(newline.is_some());
            if self.skipping {
                self.skipping = newline.is_none();
            } else if self.line.len() + part.len() > MAX_LINE_BYTES {
                self.input.consume(used);
                self.line.clear();
                self.skipping = newline.is_none();
                return Ok(Some(Input::TooLong));
            } else {
                self.line.extend_from_slice(part);
                if newline.is_some() {
                    self.input.consume(used);
                    break;
                }
            }
            self.input.consume(used);
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(Some(match std::str::from_utf8(&self.line) {
            Ok(text) => Input::Line(text.to_string()),
            Err(_) => Input::NotUtf8,
        }))
    }
}

/// Whether a line asks to leave the console.
fn is_exit(line: &str) -> bool {
    let word = line.trim();
    let word = word.strip_prefix('/').unwrap_or(word);
    word.eq_ignore_ascii_case("exit") || word.eq_ignore_ascii_case("quit")
}

/// Reads commands from `input` until it ends or a line says `exit` or `quit`, writing each reply
/// to `output` and the files replies carry into `files`. A line that cannot be run (too long,
/// not UTF-8, malformed) and a file that cannot be saved are each one failed command: the
/// console says so and goes on with the next line.
pub async fn run(
    dispatcher: &Dispatcher,
    guild_id: u64,
    files: &Path,
    input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let mut lines = LineReader::new(input);
    loop {
        if interactive {
            output.write_all(b"metricord> ").await?;
            output.flush().await?;
        }
        let line = match lines.next().await? {
            None => break,
            Some(Input::Line(line)) if is_exit(&line) => break,
            Some(Input::Line(line)) => parse_line(&line),
            Some(Input::TooLong) => Err(UserError::LineTooLong {
                kib: MAX_LINE_BYTES / 1024,
            }),
            Some(Input::NotUtf8) => Err(UserError::LineNotUtf8),
        };
        let mut reply = match line {
            Ok(None) => continue,
            Ok(Some(line)) => match invocation(dispatcher, guild_id, line).await {
                Ok(invocation) => dispatcher.dispatch(invocation).await,
                Err(err) => Reply::error(err.to_string()),
            },
            Err(err) => Reply::error(err.to_string()),
        };
        let mut text = render(&reply);
        for file in std::mem::take(&mut reply.attachments) {
            match save_file(files, file).await {
                Ok(path) => text.push_str(&format!("  file: {}\n", path.display())),
                Err(err) => {
                    tracing::warn!(error = %err, "a reply's file was not saved");
                    text.push_str(&format!(
                        "{}\n",
                        UserError::FileNotSaved {
                            problem: err.to_string()
                        }
                    ));
                }
            }
        }
        output.write_all(text.as_bytes()).await?;
        output.write_all(b"\n").await?;
        output.flush().await?;
    }
    Ok(())
}

/// The invocation a console line asks for, as the console's admin user. An attachment option
/// names a local file, which is read here.
pub async fn invocation(
    dispatcher: &Dispatcher,
    guild_id: u64,
    line: Line,
) -> Result<Invocation, UserError> {
    let mut options = Vec::with_capacity(line.options.len());
    for (name, value) in line.options {
        let spec = dispatcher.spec(&line.command).ok();
        let option = spec.and_then(|s| s.options.iter().find(|o| o.name == name));
        let value = match (option, value) {
            (Some(option), Value::Text(path)) if option.kind == Kind::Attachment => {
                let unreadable = |why: String| UserError::InvalidOption {
                    option: option.name,
                    accepts: format!("a readable file (cannot read {path}: {why})"),
                };
                let bytes = read_attachment(Path::new(&path))
                    .await
                    .map_err(|err| unreadable(err.to_string()))?;
                let name = Path::new(&path)
                    .file_name()
                    .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
                Value::File(File { name, bytes })
            }
            (_, value) => value,
        };
        options.push((name, value));
    }
    Ok(Invocation {
        guild_id: Some(guild_id),
        channel_id: 0,
        user_id: 0,
        can_manage_guild: true,
        command: line.command,
        options,
        upload_limit: None,
    })
}

/// A local file named for an attachment option, read the way Discord would deliver it: a
/// regular file of at most [`MAX_ATTACHMENT_BYTES`] (see [`files::read_regular`]).
async fn read_attachment(path: &Path) -> std::io::Result<Vec<u8>> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || files::read_regular(&path, u64::from(MAX_ATTACHMENT_BYTES)))
        .await
        .map_err(std::io::Error::other)?
}

/// Writes a reply's file into `folder` as a new file (`trend.png`, then `trend-2.png`): a
/// second chart never overwrites the first one the user is still looking at.
async fn save_file(folder: &Path, file: File) -> Result<PathBuf> {
    let folder = folder.to_path_buf();
    tokio::task::spawn_blocking(move || {
        files::write_numbered(&folder, &file.name, &file.bytes).map_err(|source| Error::Write {
            path: folder.join(&file.name),
            source,
        })
    })
    .await
    .map_err(|err| Error::Io(std::io::Error::other(err)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Line {
        parse_line(line).unwrap().unwrap()
    }

    fn text(name: &str, value: &str) -> (String, Value) {
        (name.to_string(), Value::Text(value.to_string()))
    }

    #[test]
    fn a_line_reads_as_command_and_options() {
        let line =
            parsed(r#"/ctr clicks:20 impressions:100 brand:"Ballet West" platform:instagram"#);
        assert_eq!(line.command, "ctr");
        assert_eq!(
            line.options,
            vec![
                text("clicks", "20"),
                text("impressions", "100"),
                text("brand", "Ballet West"),
                text("platform", "instagram"),
            ]
        );
    }

    #[test]
    fn unquoted_values_run_to_the_next_option() {
        let line = parsed("/potential-reach followers:1300000, 250000, 4.2K brand:Ballet West");
        assert_eq!(
            line.options,
            vec![
                text("followers", "1300000, 250000, 4.2K"),
                text("brand", "Ballet West")
            ]
        );
    }

    #[test]
    fn quotes_escape_and_protect_colons() {
        let line = parsed(r#"/sentiment text:"he said \"wow: great\" \\o/""#);
        assert_eq!(
            line.options,
            vec![text("text", r#"he said "wow: great" \o/"#)]
        );
    }

    #[test]
    fn a_bare_word_after_the_command_is_its_subcommand() {
        let line = parsed("/brand Add name:Acme");
        assert_eq!(line.command, "brand add");
        assert_eq!(line.options, vec![text("name", "Acme")]);
    }

    #[test]
    fn blank_lines_and_comments_are_skipped() {
        assert_eq!(parse_line("   ").unwrap(), None);
        assert_eq!(parse_line("# a note").unwrap(), None);
    }

    #[tokio::test]
    async fn an_endless_line_is_refused_at_the_limit_and_the_next_line_is_read_whole() {
        use tokio::io::AsyncReadExt;
        // An endless line is reported once it passes the limit, never held whole.
        let mut endless = LineReader::new(tokio::io::BufReader::new(tokio::io::repeat(b'x')));
        assert_eq!(endless.next().await.unwrap(), Some(Input::TooLong));
        assert!(endless.line.capacity() <= 2 * MAX_LINE_BYTES);
        let long = tokio::io::repeat(b'x').take(3 * MAX_LINE_BYTES as u64);
        let rest: &[u8] = b"\n/ctr clicks:1\r\n\xff\nlast";
        let mut lines = LineReader::new(tokio::io::BufReader::new(long.chain(rest)));
        let mut read = Vec::new();
        while let Some(input) = lines.next().await.unwrap() {
            read.push(input);
        }
        assert_eq!(
            read,
            [
                Input::TooLong,
                Input::Line("/ctr clicks:1".into()),
                Input::NotUtf8,
                Input::Line("last".into())
            ]
        );
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        for bad in [
            "/ctr clicks:\"20",
            "/ctr 20 30",
            "/ctr clicks:\"1\"x",
            "/",
            "/ctr :5",
        ] {
            assert!(parse_line(bad).is_err(), "{bad}");
        }
    }
}
