//! What a person types for an account, per network, turned into one checked form: the key a
//! collector asks its network with, and the caller stores.
//!
//! People paste what they have: a handle with or without its `@`, an id, or the profile link from
//! their browser. A link is accepted and the account taken out of it. Nothing here asks a network
//! whether the account exists; that is [`super::Collector::resolve`].

use std::fmt;

use reqwest::Url;

use super::{Error, Network, Result};

/// An account on one network, in a checked form: a Bluesky handle (`ballet.bsky.social`) or DID,
/// a Mastodon `user@instance`, or a YouTube channel id (`UC...`) or `@handle`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Account {
    network: Network,
    key: String,
}

/// Longest text looked at; anything longer is not an account.
const MAX_INPUT: usize = 300;

impl Account {
    /// Reads what a person typed (or a key stored earlier: keys read back as themselves).
    pub fn parse(network: Network, input: &str) -> Result<Account> {
        let text = input.trim();
        let bad = || Error::BadAccount {
            network,
            input: shorten(text),
        };
        if text.is_empty() || text.len() > MAX_INPUT || text.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let key = match network {
            Network::Bluesky => bluesky(text),
            Network::Mastodon => mastodon(text)?,
            Network::YouTube => youtube(text),
        };
        key.map(|key| Account { network, key }).ok_or_else(bad)
    }

    pub fn network(&self) -> Network {
        self.network
    }

    /// The checked form, for asking the network and for storing.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A Mastodon account's instance, whose limits its polls share.
    pub fn instance(&self) -> Option<&str> {
        self.user_and_instance().map(|(_, instance)| instance)
    }

    /// A Mastodon account's `(user, instance)`.
    pub(super) fn user_and_instance(&self) -> Option<(&str, &str)> {
        (self.network == Network::Mastodon)
            .then(|| self.key.split_once('@'))
            .flatten()
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.network {
            Network::Mastodon => write!(f, "@{}", self.key),
            Network::Bluesky | Network::YouTube => f.write_str(&self.key),
        }
    }
}

/// What a network accepts, for the error that echoes what was typed.
pub(super) fn accepts(network: Network, input: &str) -> String {
    let what = match network {
        Network::Bluesky => {
            "give a handle such as `ballet.bsky.social`, a `did:plc:...`, or a bsky.app profile link"
        }
        Network::Mastodon => {
            "write `@user@instance`, such as `@ballet@mastodon.social`, or paste the profile link"
        }
        Network::YouTube => {
            "give the channel's `@handle`, its id (`UC...`), or a youtube.com/@handle or youtube.com/channel/ link"
        }
    };
    format!("`{input}` is not a {network} account: {what}.")
}

/// The typed text, short and without backticks, for echoing in a message.
fn shorten(text: &str) -> String {
    let clean: String = text.chars().filter(|c| *c != '`').take(80).collect();
    if clean.chars().count() < text.chars().count() {
        format!("{clean}…")
    } else {
        clean
    }
}

/// A pasted link: its host (lowercase) and path segments, or None if the text is not a link.
/// `bsky.app/profile/x` without a scheme counts: browsers hide it.
fn link(text: &str) -> Option<(String, Vec<String>)> {
    if !text.contains('/') {
        return None;
    }
    let url = if text.contains("://") {
        Url::parse(text).ok()?
    } else {
        Url::parse(&format!("https://{text}")).ok()?
    };
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let segments = url
        .path_segments()?
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%40", "@")
        })
        .collect();
    Some((host, segments))
}

/// A domain name as DNS and handles allow: two labels or more, letters, digits and inner hyphens,
/// a last label that is not a number (so no IP addresses).
fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    text.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
}

fn bluesky(text: &str) -> Option<String> {
    let actor = match link(text) {
        Some((_, segments)) => match segments.as_slice() {
            [profile, actor, ..] if profile == "profile" => actor.clone(),
            _ => return None,
        },
        None => text.strip_prefix('@').unwrap_or(text).to_string(),
    };
    if let Some(id) = actor.strip_prefix("did:plc:") {
        let valid = id.len() == 24 && id.chars().all(|c| matches!(c, 'a'..='z' | '2'..='7'));
        return valid.then_some(actor);
    }
    if let Some(domain) = actor.strip_prefix("did:web:") {
        return is_domain(domain).then(|| format!("did:web:{}", domain.to_ascii_lowercase()));
    }
    let handle = actor.to_ascii_lowercase();
    is_domain(&handle).then_some(handle)
}

fn mastodon(text: &str) -> Result<Option<String>> {
    let (user, instance) = match link(text) {
        Some((host, segments)) => match segments.as_slice() {
            // https://instance/@user, or a remote profile as another instance shows it:
            // https://instance/@user@home.
            [at_user, ..] if at_user.starts_with('@') => match at_user[1..].split_once('@') {
                Some((user, home)) => (user.to_string(), home.to_string()),
                None => (at_user[1..].to_string(), host),
            },
            [users, user, ..] if users == "users" => (user.clone(), host),
            _ => return Ok(None),
        },
        None => {
            let bare = text.strip_prefix('@').unwrap_or(text);
            match bare.split_once('@') {
                Some((user, instance)) => (user.to_string(), instance.to_string()),
                None if is_username(bare) => {
                    return Err(Error::NeedsInstance {
                        user: bare.to_string(),
                    });
                }
                None => return Ok(None),
            }
        }
    };
    let instance = instance.to_ascii_lowercase();
    Ok((is_username(&user) && is_domain(&instance)).then(|| format!("{user}@{instance}")))
}

/// Mastodon allows letters, digits and underscores; other fediverse servers also dots and
/// hyphens inside.
fn is_username(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

fn youtube(text: &str) -> Option<String> {
    let id_or_handle = match link(text) {
        Some((host, segments)) => {
            if host != "youtube.com" && !host.ends_with(".youtube.com") {
                return None;
            }
            match segments.as_slice() {
                [channel, id, ..] if channel == "channel" => {
                    return is_channel_id(id).then(|| id.clone());
                }
                [handle, ..] if handle.starts_with('@') => handle.clone(),
                _ => return None,
            }
        }
        None => text.to_string(),
    };
    if is_channel_id(&id_or_handle) {
        return Some(id_or_handle);
    }
    let handle = id_or_handle.strip_prefix('@').unwrap_or(&id_or_handle);
    // Handles are 3 to 30 letters (any script), digits, underscores, hyphens and dots; YouTube
    // compares them without case.
    let valid = (3..=30).contains(&handle.chars().count())
        && handle
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '·'));
    valid.then(|| format!("@{}", handle.to_lowercase()))
}

/// `UC` and 22 characters of URL-safe base64.
fn is_channel_id(text: &str) -> bool {
    text.len() == 24
        && text.starts_with("UC")
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(network: Network, input: &str) -> String {
        Account::parse(network, input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .key()
            .to_string()
    }

    #[test]
    fn a_bluesky_account_is_a_handle_a_did_or_a_pasted_profile_link() {
        for input in [
            "ballet.bsky.social",
            "@ballet.bsky.social",
            " Ballet.Bsky.Social ",
            "https://bsky.app/profile/ballet.bsky.social",
            "bsky.app/profile/ballet.bsky.social/post/3kabc",
        ] {
            assert_eq!(
                key(Network::Bluesky, input),
                "ballet.bsky.social",
                "{input}"
            );
        }
        let did = "did:plc:z72i7hdynmk6r22z27h6tvur";
        assert_eq!(key(Network::Bluesky, did), did);
        assert_eq!(
            key(Network::Bluesky, &format!("https://bsky.app/profile/{did}")),
            did
        );
        assert_eq!(
            key(
                Network::Bluesky,
                "https://bsky.app/profile/did%3Aplc%3Az72i7hdynmk6r22z27h6tvur"
            ),
            did
        );
    }

    #[test]
    fn what_is_not_a_bluesky_account_is_refused_saying_what_is_accepted() {
        for input in [
            "ballet",
            "did:plc:short",
            "ballet .bsky.social",
            "https://bsky.app/search?q=ballet",
            "-ballet.bsky.social",
            "ballet.bsky.123",
            "",
        ] {
            let err = Account::parse(Network::Bluesky, input).unwrap_err();
            assert!(err.is_bad_input(), "{input}");
            assert!(err.to_string().contains("ballet.bsky.social"), "{err}");
        }
    }

    #[test]
    fn a_mastodon_account_is_user_at_instance_or_a_pasted_profile_link() {
        for input in [
            "@ballet@mastodon.social",
            "ballet@Mastodon.Social",
            "https://mastodon.social/@ballet",
            "https://mastodon.social/@ballet/113456789012345678",
            "mastodon.social/@ballet",
            "https://mastodon.social/users/ballet",
            "https://fosstodon.org/@ballet@mastodon.social",
        ] {
            assert_eq!(
                key(Network::Mastodon, input),
                "ballet@mastodon.social",
                "{input}"
            );
        }
        let account = Account::parse(Network::Mastodon, "@ballet@mastodon.social").unwrap();
        assert_eq!(account.to_string(), "@ballet@mastodon.social");
        assert_eq!(
            account.user_and_instance(),
            Some(("ballet", "mastodon.social"))
        );
    }

    #[test]
    fn a_mastodon_user_without_an_instance_is_refused_saying_the_instance_is_needed() {
        for input in ["@ballet", "ballet"] {
            let err = Account::parse(Network::Mastodon, input).unwrap_err();
            assert_eq!(
                err.to_string(),
                "Mastodon accounts live on an instance: write `@ballet@instance`, such as `@ballet@mastodon.social`."
            );
        }
    }

    #[test]
    fn a_mastodon_instance_must_be_a_domain_not_an_address() {
        for input in [
            "ballet@localhost",
            "ballet@127.0.0.1",
            "ballet@mastodon",
            "bal let@mastodon.social",
            "@@mastodon.social",
            "https://mastodon.social/about",
        ] {
            let err = Account::parse(Network::Mastodon, input).unwrap_err();
            assert!(err.to_string().contains("@user@instance"), "{input}: {err}");
        }
    }

    #[test]
    fn a_youtube_channel_is_an_id_a_handle_or_a_pasted_channel_link() {
        let id = "UCuAXFkgsw1L7xaCfnd5JJOw";
        for input in [
            id,
            &format!("https://www.youtube.com/channel/{id}"),
            &format!("youtube.com/channel/{id}/videos"),
        ] {
            assert_eq!(key(Network::YouTube, input), id, "{input}");
        }
        for input in [
            "@BalletWest",
            "balletwest",
            "https://www.youtube.com/@balletwest",
            "https://m.youtube.com/@balletwest/videos",
        ] {
            assert_eq!(key(Network::YouTube, input), "@balletwest", "{input}");
        }
    }

    #[test]
    fn what_is_not_a_youtube_channel_is_refused_saying_what_is_accepted() {
        for input in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://vimeo.com/@balletwest",
            "https://www.youtube.com/c/balletwest",
            "https://youtube.com/channel/UCu5E",
            "@bw",
            "@ballet west",
        ] {
            let err = Account::parse(Network::YouTube, input).unwrap_err();
            assert!(err.to_string().contains("`@handle`"), "{input}: {err}");
        }
    }

    #[test]
    fn stored_keys_read_back_as_themselves() {
        for (network, input) in [
            (Network::Bluesky, "did:plc:z72i7hdynmk6r22z27h6tvur"),
            (Network::Mastodon, "ballet@mastodon.social"),
            (Network::YouTube, "UCuAXFkgsw1L7xaCfnd5JJOw"),
            (Network::YouTube, "@balletwest"),
        ] {
            assert_eq!(key(network, input), input);
        }
    }

    proptest::proptest! {
        // A fixed seed: the same cases every run.
        #![proptest_config(proptest::test_runner::Config {
            cases: 1_000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(11),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn no_text_makes_parsing_panic_and_every_key_reads_back_as_itself(
            text in "(https://bsky\\.app/profile/|https://[a-z]{3,8}\\.social/@|https://youtube\\.com/(@|channel/UC)|@|UC)?[a-zA-Z0-9_-]{1,24}(@[a-z]{2,8})?(\\.[a-zA-Z]{2,6}){0,2}|[@a-zA-Z0-9:/._%-]{0,60}|\\PC{0,400}"
        ) {
            for network in Network::ALL {
                if let Ok(account) = Account::parse(network, &text) {
                    let again = Account::parse(network, account.key());
                    proptest::prop_assert_eq!(again, Ok(account));
                }
            }
        }
    }

    #[test]
    fn a_long_input_is_echoed_short() {
        let input = "x".repeat(200);
        let err = Account::parse(Network::YouTube, &input).unwrap_err();
        assert!(err.to_string().len() < 250, "{err}");
    }
}
