//! Translation between metricord's transport-neutral types and serenity's: command specs to
//! slash-command registrations, interactions to invocations, replies to messages.

use serenity::all::{
    ChannelType, CommandDataOption, CommandDataOptionValue, CommandInteraction, CommandOptionType,
    CreateAllowedMentions, CreateAttachment, CreateCommand, CreateCommandOption, CreateEmbed,
    CreateEmbedFooter, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, EditAttachments, EditInteractionResponse, InteractionContext, Nonce,
    Permissions, RoleId,
};

use crate::command::{CommandSpec, Embed, File, Invocation, Kind, OptionSpec, Reply, Value};
use crate::error::UserError;
use crate::limits::MAX_ATTACHMENT_BYTES;

/// The registration of one command.
pub fn create_command(spec: &CommandSpec) -> CreateCommand {
    let mut command = CreateCommand::new(spec.name)
        .description(spec.description)
        .contexts(vec![InteractionContext::Guild]);
    let manages_data = spec.manages_data || spec.subcommands.iter().any(|sub| sub.manages_data);
    if manages_data {
        command = command.default_member_permissions(Permissions::MANAGE_GUILD);
    }
    for option in &spec.options {
        command = command.add_option(create_option(option));
    }
    for sub in &spec.subcommands {
        let mut subcommand =
            CreateCommandOption::new(CommandOptionType::SubCommand, sub.name, sub.description);
        for option in &sub.options {
            subcommand = subcommand.add_sub_option(create_option(option));
        }
        command = command.add_option(subcommand);
    }
    command
}

fn create_option(spec: &OptionSpec) -> CreateCommandOption {
    let kind = match spec.kind {
        Kind::Integer { .. } => CommandOptionType::Integer,
        Kind::Boolean => CommandOptionType::Boolean,
        Kind::Attachment => CommandOptionType::Attachment,
        Kind::Channel => CommandOptionType::Channel,
        Kind::Role => CommandOptionType::Role,
        Kind::Text { .. } | Kind::Name | Kind::Choice(_) | Kind::Date => CommandOptionType::String,
    };
    let mut option = CreateCommandOption::new(kind, spec.name, spec.description)
        .required(spec.required)
        .set_autocomplete(spec.suggest.is_some());
    match &spec.kind {
        Kind::Integer { min, max } => {
            // Discord's integer options carry at most 2^53 in magnitude; metricord's are counts.
            option = option
                .min_int_value(u64::try_from(*min).unwrap_or(0))
                .max_int_value(u64::try_from(*max).unwrap_or(0));
        }
        Kind::Text { max_len } => option = option.max_length(*max_len),
        Kind::Name => option = option.max_length(crate::names::NAME_LEN as u16),
        Kind::Date => option = option.min_length(10).max_length(10),
        Kind::Choice(choices) => {
            for choice in choices.iter() {
                option = option.add_string_choice(*choice, *choice);
            }
        }
        Kind::Channel => option = option.channel_types(vec![ChannelType::Text]),
        Kind::Boolean | Kind::Attachment | Kind::Role => {}
    }
    option
}

/// The invocation an interaction asks for, with attachments downloaded. Attachments are fetched
/// here so that the core never touches the network.
pub async fn invocation(interaction: &CommandInteraction) -> Result<Invocation, UserError> {
    let (mut command, mut options) = (interaction.data.name.clone(), &interaction.data.options);
    if let Some(CommandDataOption {
        name,
        value: CommandDataOptionValue::SubCommand(sub),
        ..
    }) = options.first()
    {
        command = format!("{command} {name}");
        options = sub;
    }
    let mut values = Vec::with_capacity(options.len());
    for option in options {
        let value = match &option.value {
            CommandDataOptionValue::Integer(n) => Value::Integer(*n),
            CommandDataOptionValue::Number(x) => Value::Number(*x),
            CommandDataOptionValue::Boolean(b) => Value::Boolean(*b),
            CommandDataOptionValue::String(text) => Value::Text(text.clone()),
            CommandDataOptionValue::Channel(id) => Value::Text(id.get().to_string()),
            CommandDataOptionValue::Role(id) => Value::Text(id.get().to_string()),
            CommandDataOptionValue::Attachment(id) => {
                let attachment =
                    interaction
                        .data
                        .resolved
                        .attachments
                        .get(id)
                        .ok_or_else(|| UserError::AttachmentMissing {
                            option: option.name.clone(),
                        })?;
                if attachment.size > MAX_ATTACHMENT_BYTES {
                    return Err(UserError::AttachmentTooLarge {
                        option: option.name.clone(),
                        megabytes: MAX_ATTACHMENT_BYTES / 1024 / 1024,
                    });
                }
                let bytes = attachment.download().await.map_err(|err| {
                    tracing::warn!(error = %err, "attachment download failed");
                    UserError::AttachmentUnreadable {
                        option: option.name.clone(),
                    }
                })?;
                Value::File(File {
                    name: attachment.filename.clone(),
                    bytes,
                })
            }
            // Commands are registered from their specs, so another kind means the registration
            // is not this build's: refuse rather than guess at an empty value.
            _ => {
                return Err(UserError::UnsupportedOption {
                    option: option.name.clone(),
                });
            }
        };
        values.push((option.name.clone(), value));
    }
    let can_manage_guild = interaction
        .member
        .as_ref()
        .and_then(|member| member.permissions)
        .is_some_and(|p| p.manage_guild() || p.administrator());
    Ok(Invocation {
        guild_id: interaction.guild_id.map(|id| id.get()),
        channel_id: interaction.channel_id.get(),
        user_id: interaction.user.id.get(),
        can_manage_guild,
        command,
        options: values,
        upload_limit: Some(upload_limit(interaction.attachment_size_limit)),
    })
}

/// The largest file a reply to this interaction may carry. Discord omits the limit in some
/// payloads; its smallest upload limit is 10 MiB.
pub fn upload_limit(attachment_size_limit: u32) -> usize {
    match attachment_size_limit {
        0 => 10 * 1024 * 1024,
        limit => limit as usize,
    }
}

/// Every message metricord sends pings nobody, whatever a brand is called.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

fn embeds(reply: &Reply) -> Vec<CreateEmbed> {
    reply.embeds.iter().map(create_embed).collect()
}

fn create_embed(embed: &Embed) -> CreateEmbed {
    let mut out = CreateEmbed::new()
        .title(&embed.title)
        // Discord's blurple, readable on the dark and the light theme.
        .colour(0x5865F2);
    if !embed.description.is_empty() {
        out = out.description(&embed.description);
    }
    for field in &embed.fields {
        out = out.field(&field.name, &field.value, field.inline);
    }
    if let Some(footer) = &embed.footer {
        out = out.footer(CreateEmbedFooter::new(footer));
    }
    out
}

fn attachments(reply: &Reply) -> Vec<CreateAttachment> {
    reply
        .attachments
        .iter()
        .map(|file| CreateAttachment::bytes(file.bytes.clone(), file.name.clone()))
        .collect()
}

/// What every kind of message takes alike from a reply: its text, its embeds, and allowed
/// mentions none. serenity's four message builders share no trait, so this is a macro; each
/// function below adds only what its kind of message does differently.
macro_rules! message {
    ($builder:expr, $reply:expr) => {{
        let reply: &Reply = $reply;
        let mut message = $builder
            .embeds(embeds(reply))
            .allowed_mentions(no_mentions());
        if !reply.content.is_empty() {
            message = message.content(&reply.content);
        }
        message
    }};
}

/// A reply as the first answer to an interaction.
pub fn response(reply: &Reply) -> CreateInteractionResponseMessage {
    message!(CreateInteractionResponseMessage::new(), reply)
        .files(attachments(reply))
        .ephemeral(reply.ephemeral)
}

/// A reply as the edit that completes a deferred answer; it replaces the whole message, so
/// its text is set even when empty.
pub fn edit(reply: &Reply) -> EditInteractionResponse {
    let mut files = EditAttachments::new();
    for file in attachments(reply) {
        files = files.add(file);
    }
    message!(EditInteractionResponse::new(), reply)
        .content(&reply.content)
        .attachments(files)
}

/// A reply as a follow-up message: the second and later parts of a long answer.
pub fn followup(reply: &Reply) -> CreateInteractionResponseFollowup {
    message!(CreateInteractionResponseFollowup::new(), reply)
        .files(attachments(reply))
        .ephemeral(reply.ephemeral)
}

/// A reply as a message posted to a channel (digests, alerts), carrying a nonce Discord
/// enforces. `ping_role` is the one role the message may ping (an alert rule's); without it the
/// message pings nobody.
pub fn channel_message(reply: &Reply, nonce: String, ping_role: Option<u64>) -> CreateMessage {
    let mut message = message!(CreateMessage::new(), reply)
        .add_files(attachments(reply))
        .nonce(Nonce::String(nonce))
        .enforce_nonce(true);
    if let Some(role) = ping_role.filter(|r| *r > 0) {
        message = message.allowed_mentions(no_mentions().roles(vec![RoleId::new(role)]));
    }
    message
}
