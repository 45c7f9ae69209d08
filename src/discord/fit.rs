//! Fitting a reply inside Discord's limits (see [`crate::limits`]).
//!
//! Discord rejects a message that breaks any of its limits, and a rejected answer is a silent
//! failure for the person who typed the command. So a reply is fitted before it is sent: long
//! text is trimmed or split at line ends, embeds with many fields are continued in further
//! embeds, and embeds beyond what one message carries go into further messages.

use crate::command::{Embed, Field, Reply};
use crate::limits::{
    CONTENT, DESCRIPTION, EMBED_TOTAL, EMBEDS_PER_MESSAGE, FIELD_NAME, FIELD_VALUE, FIELDS, FOOTER,
    TITLE,
};

/// Splits and trims `reply` into messages that each fit Discord's limits. The first carries the
/// attachments; all keep the reply's ephemeral flag.
pub fn fit(reply: Reply) -> Vec<Reply> {
    let mut messages: Vec<Reply> = split_text(&reply.content, CONTENT)
        .into_iter()
        .map(|content| Reply {
            content,
            ephemeral: reply.ephemeral,
            ..Reply::default()
        })
        .collect();
    let embeds = reply.embeds.into_iter().flat_map(fit_embed);
    for embed in embeds {
        let size = embed_size(&embed);
        let fits = messages.last().is_some_and(|m| {
            m.embeds.len() < EMBEDS_PER_MESSAGE
                && m.embeds.iter().map(embed_size).sum::<usize>() + size <= EMBED_TOTAL
        });
        if !fits {
            messages.push(Reply {
                ephemeral: reply.ephemeral,
                ..Reply::default()
            });
        }
        if let Some(last) = messages.last_mut() {
            last.embeds.push(embed);
        }
    }
    if messages.is_empty() {
        messages.push(Reply {
            ephemeral: reply.ephemeral,
            ..Reply::default()
        });
    }
    messages[0].attachments = reply.attachments;
    messages
}

/// An embed trimmed to Discord's limits, continued in further embeds past 25 fields or past what
/// one message's 6,000 characters can hold.
fn fit_embed(embed: Embed) -> Vec<Embed> {
    let title = trim(&embed.title, TITLE);
    let footer = embed.footer.map(|f| trim(&f, FOOTER));
    let mut out = vec![Embed {
        title: title.clone(),
        description: trim(&embed.description, DESCRIPTION),
        fields: Vec::new(),
        footer: None,
    }];
    let continued = trim(&format!("{title} (continued)"), TITLE);
    for field in embed.fields {
        let field = Field {
            name: trim(&field.name, FIELD_NAME),
            value: trim(&field.value, FIELD_VALUE),
            inline: field.inline,
        };
        let field_size = field.name.chars().count() + field.value.chars().count();
        let full = out.last().is_some_and(|e| {
            e.fields.len() >= FIELDS || embed_size(e) + field_size > EMBED_TOTAL - TITLE - FOOTER
        });
        if full {
            out.push(Embed {
                title: continued.clone(),
                ..Embed::default()
            });
        }
        if let Some(last) = out.last_mut() {
            last.fields.push(field);
        }
    }
    if let Some(last) = out.last_mut() {
        let room = EMBED_TOTAL - embed_size(last);
        last.footer = footer.filter(|_| room > 0).map(|f| trim(&f, room));
    }
    out
}

/// The characters of an embed that count toward a message's 6,000.
pub fn embed_size(embed: &Embed) -> usize {
    embed.title.chars().count()
        + embed.description.chars().count()
        + embed.footer.as_ref().map_or(0, |f| f.chars().count())
        + embed
            .fields
            .iter()
            .map(|f| f.name.chars().count() + f.value.chars().count())
            .sum::<usize>()
}

/// `text` cut to `max` characters, ending with an ellipsis when cut.
pub fn trim(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` in pieces of at most `max` characters, split at line ends where possible.
fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let mut line: Vec<char> = line.chars().collect();
        while !line.is_empty() {
            if current_len + line.len() <= max {
                current.extend(line.drain(..));
                current_len = current.chars().count();
            } else if current_len > 0 {
                pieces.push(std::mem::take(&mut current));
                current_len = 0;
            } else {
                current.extend(line.drain(..max));
                pieces.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.trim().is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(messages: &[Reply]) {
        for message in messages {
            assert!(message.content.chars().count() <= CONTENT);
            assert!(message.embeds.len() <= EMBEDS_PER_MESSAGE);
            assert!(message.embeds.iter().map(embed_size).sum::<usize>() <= EMBED_TOTAL);
            for embed in &message.embeds {
                assert!(embed.title.chars().count() <= TITLE);
                assert!(embed.description.chars().count() <= DESCRIPTION);
                assert!(embed.fields.len() <= FIELDS);
                for field in &embed.fields {
                    assert!(field.name.chars().count() <= FIELD_NAME);
                    assert!(field.value.chars().count() <= FIELD_VALUE);
                }
            }
        }
    }

    #[test]
    fn long_text_is_split_at_line_ends() {
        let text = "a line of text\n".repeat(399);
        let messages = fit(Reply {
            content: text.clone(),
            ..Reply::default()
        });
        check(&messages);
        assert_eq!(messages.len(), 3);
        assert_eq!(
            messages
                .iter()
                .map(|m| m.content.as_str())
                .collect::<String>(),
            text
        );
        assert!(messages[0].content.ends_with('\n'));
    }

    #[test]
    fn a_line_longer_than_a_message_is_cut_into_pieces() {
        let text = "é".repeat(4500);
        let messages = fit(Reply {
            content: text.clone(),
            ..Reply::default()
        });
        check(&messages);
        assert_eq!(
            messages
                .iter()
                .map(|m| m.content.as_str())
                .collect::<String>(),
            text
        );
    }

    #[test]
    fn many_large_embeds_are_spread_over_messages_within_every_limit() {
        let embed = Embed {
            title: "t".repeat(300),
            description: "d".repeat(5000),
            fields: (0..60)
                .map(|i| Field::new(format!("field {i}"), "v".repeat(1500)))
                .collect(),
            footer: Some("f".repeat(100)),
        };
        let messages = fit(Reply {
            embeds: vec![embed; 12],
            ephemeral: true,
            ..Reply::default()
        });
        check(&messages);
        let fields: usize = messages
            .iter()
            .flat_map(|m| &m.embeds)
            .map(|e| e.fields.len())
            .sum();
        assert_eq!(fields, 12 * 60, "no field may be lost");
        assert!(messages.iter().all(|m| m.ephemeral));
    }
}
