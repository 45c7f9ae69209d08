//! The console front end: commands typed one per line, exactly as in Discord
//! (`/ctr clicks:20 impressions:100 brand:"Ballet West"`), answered as plain text.
//!
//! It runs against the same database and dispatcher as the bot, as an admin of a local guild of
//! its own (or of a Discord guild given with `--guild`), so operators can inspect and fix data and
//! new users can try metricord without a Discord token. It reads until end of input, piped or
//! interactive, and keeps going after an error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::command::{File, Invocation, Kind, Reply, Value};
use crate::dispatcher::Dispatcher;
use crate::error::{Error, Result, UserError};
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

/// Reads commands from `input` until it ends, writing each reply to `output` and the files
/// replies carry into `files`.
pub async fn run(
    dispatcher: &Dispatcher,
    guild_id: u64,
    files: &Path,
    input: impl AsyncBufRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
) -> Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let mut lines = input.lines();
    loop {
        if interactive {
            output.write_all(b"metricord> ").await?;
            output.flush().await?;
        }
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let reply = match parse_line(&line) {
            Ok(None) => continue,
            Ok(Some(line)) => match invocation(dispatcher, guild_id, line).await {
                Ok(invocation) => dispatcher.dispatch(invocation).await,
                Err(err) => Reply::error(err.to_string()),
            },
            Err(err) => Reply::error(err.to_string()),
        };
        let mut text = render(&reply);
        for path in save_files(&reply, files).await? {
            text.push_str(&format!("  file: {}\n", path.display()));
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
/// regular file of at most [`MAX_ATTACHMENT_BYTES`]. A device or a FIFO is refused before it is
/// opened for reading, and the read stops at the limit whatever the file claims its size is.
async fn read_attachment(path: &Path) -> std::io::Result<Vec<u8>> {
    let limit = u64::from(MAX_ATTACHMENT_BYTES);
    let too_large = || {
        std::io::Error::other(format!(
            "it is larger than {} MB",
            MAX_ATTACHMENT_BYTES / 1024 / 1024
        ))
    };
    let metadata = tokio::fs::metadata(path).await?;
    if !metadata.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    tokio::fs::File::open(path)
        .await?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .await?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Creates `folder/name`, or `folder/name-2`, `-3`... if taken, and writes `bytes` into it: a
/// second chart must not overwrite the first one the user is still looking at. The file is
/// created new, so an existing file or a link in its place is never written through.
async fn write_new(folder: &Path, name: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let stem = name
        .file_stem()
        .map_or_else(|| "file".into(), |s| s.to_string_lossy().into_owned());
    let extension = name
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut n = 1;
    loop {
        let path = if n == 1 {
            folder.join(format!("{stem}{extension}"))
        } else {
            folder.join(format!("{stem}-{n}{extension}"))
        };
        match tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
        {
            Ok(mut file) => {
                file.write_all(bytes).await?;
                file.flush().await?;
                return Ok(path);
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
            Err(err) => return Err(err),
        }
    }
}

/// Writes a reply's files into `folder`, returning their paths.
pub async fn save_files(reply: &Reply, folder: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for file in &reply.attachments {
        tokio::fs::create_dir_all(folder)
            .await
            .map_err(|source| Error::Write {
                path: folder.to_path_buf(),
                source,
            })?;
        // Only the file name: a name from a reply never chooses the folder.
        let name = Path::new(&file.name)
            .file_name()
            .map_or_else(|| "file".into(), |n| n.to_os_string());
        let path = write_new(folder, Path::new(&name), &file.bytes)
            .await
            .map_err(|source| Error::Write {
                path: folder.join(&name),
                source,
            })?;
        paths.push(path);
    }
    Ok(paths)
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
