//! Collection: reading an account's public numbers from Bluesky, Mastodon and YouTube.
//!
//! A person names an account the way they know it ([`Account::parse`] takes handles, ids and
//! pasted profile links); [`Collector::resolve`] checks it exists and says what it is, and
//! [`Collector::poll`] reads its followers and its own posts since a time, with each post's
//! applause, conversation and amplification. There is one collector per network, behind one trait
//! because there really are three; [`Collectors`] holds them with one shared HTTP client
//! ([`http`]: timeouts, a cap on every body, per-host rate and concurrency limits, Retry-After and
//! backoff). Nothing here stores anything or knows Discord: the caller (the tracking feature and
//! its scheduler job) decides what to keep. Every wait goes through tokio's clock, so tests run
//! them instantly with paused time; wall-clock questions (a Retry-After date, YouTube's quota
//! day) go through [`Clock`].

mod account;
mod bluesky;
pub mod http;
mod mastodon;
mod quota;
mod youtube;

use std::fmt;

use chrono::{DateTime, Utc};

pub use account::Account;
pub use bluesky::Bluesky;
pub use mastodon::Mastodon;
pub use youtube::YouTube;

use crate::clock::Clock;
use crate::numbers::thousands;
use crate::settings::CollectSettings;

/// The networks metricord collects from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    Bluesky,
    Mastodon,
    YouTube,
}

impl Network {
    pub const ALL: [Network; 3] = [Network::Bluesky, Network::Mastodon, Network::YouTube];

    /// The platform name used in commands and storage.
    pub fn platform(self) -> &'static str {
        match self {
            Network::Bluesky => "bluesky",
            Network::Mastodon => "mastodon",
            Network::YouTube => "youtube",
        }
    }

    pub fn from_platform(name: &str) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.platform() == name)
    }

    /// The smallest change in a follower count of this size that is real. YouTube shows
    /// subscriber counts rounded to three significant figures (1,234,567 is shown as 1,230,000),
    /// so at that size growth finer than 10,000 cannot be told apart from rounding.
    pub fn follower_resolution(self, followers: u64) -> u64 {
        match self {
            Network::YouTube => {
                let digits = followers.checked_ilog10().unwrap_or(0) + 1;
                10u64.pow(digits.saturating_sub(3))
            }
            Network::Bluesky | Network::Mastodon => 1,
        }
    }

    /// What a report should say about this network's collected numbers.
    pub fn caveat(self) -> Option<&'static str> {
        match self {
            Network::Bluesky => None,
            Network::Mastodon => Some(
                "Mastodon counts are what the account's own instance knows; other instances may show fewer.",
            ),
            Network::YouTube => Some(
                "YouTube rounds subscriber counts to three significant figures, so smaller growth is not shown as real.",
            ),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Network::Bluesky => "Bluesky",
            Network::Mastodon => "Mastodon",
            Network::YouTube => "YouTube",
        })
    }
}

/// What an account is, as its network shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The account in its stable form (a DID, `user@instance`, a channel id): what to keep and
    /// poll, since handles can change.
    pub account: Account,
    /// How people know it: `@ballet.bsky.social`, `@ballet@mastodon.social`, `@balletwest`.
    pub handle: String,
    pub name: String,
    /// None when the account hides it; never a made-up 0.
    pub followers: Option<u64>,
    pub link: String,
}

impl Profile {
    /// One line for a person: who was found, and with how many followers, honestly labelled.
    pub fn describe(&self) -> String {
        let network = self.account.network();
        let count = |n: u64| thousands(i64::try_from(n).unwrap_or(i64::MAX));
        let audience = match (network, self.followers) {
            (Network::YouTube, Some(n)) => format!(
                "{} subscribers (YouTube rounds this to three significant figures)",
                count(n)
            ),
            (_, Some(n)) => format!("{} followers", count(n)),
            (Network::YouTube, None) => {
                "subscriber count hidden by the channel, so its audience shows as missing, not 0"
                    .to_string()
            }
            (_, None) => {
                "follower count not published, so its audience shows as missing, not 0".to_string()
            }
        };
        format!("{} ({}) on {network}: {audience}", self.name, self.handle)
    }
}

/// One of the account's own posts (a video on YouTube).
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The network's id: an at:// URI, a status id, a video id.
    pub id: String,
    pub link: String,
    pub published: DateTime<Utc>,
    /// Likes, favourites.
    pub applause: Option<u64>,
    /// Replies, comments.
    pub conversation: Option<u64>,
    /// Reposts plus quotes, reblogs; None on YouTube, which publishes no share count.
    pub amplification: Option<u64>,
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    /// None when the account hides it; never a made-up 0.
    pub followers: Option<u64>,
    /// The account's own posts published at or after `since`, newest first, each once.
    pub posts: Vec<Post>,
    /// False when the page cap stopped the reading before it got back to `since`.
    pub complete: bool,
    pub cost: Cost,
}

/// What a poll or a resolve cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// HTTP requests sent, retries included.
    pub requests: u32,
    /// Pages of posts read.
    pub pages: u32,
    /// YouTube quota units spent (Google charges every request, failed ones too).
    pub quota_units: u32,
}

/// Reads one network. Calls for different accounts run at once; each waits only for its own
/// host's limits.
#[async_trait::async_trait]
pub trait Collector: Send + Sync {
    fn network(&self) -> Network;

    /// Finds the account and says what it is. Meant for a person waiting (`/track add`): it
    /// never waits for YouTube's quota day to end, it says when collection resumes.
    async fn resolve(&self, account: &Account) -> Result<Profile>;

    /// Reads the followers and the posts published at or after `since`. Meant for the
    /// background: when YouTube's daily quota is spent it waits for the reset at midnight
    /// Pacific time, so run it in a task of its own.
    async fn poll(&self, account: &Account, since: DateTime<Utc>) -> Result<Poll>;
}

/// The three collectors, sharing one HTTP client.
#[derive(Debug)]
pub struct Collectors {
    bluesky: Bluesky,
    mastodon: Mastodon,
    youtube: YouTube,
}

impl Collectors {
    pub fn new(settings: &CollectSettings, clock: Clock) -> Result<Collectors> {
        let client = http::client(settings)?;
        let mut mastodon = Mastodon::new(client.clone(), settings, clock.clone());
        if !settings.mastodon_url.is_empty() {
            let url = settings.mastodon_url.trim_end_matches('/').to_string();
            mastodon = mastodon.with_instance_url(move |_| url.clone());
        }
        Ok(Collectors {
            bluesky: Bluesky::new(client.clone(), settings, clock.clone()),
            mastodon,
            youtube: YouTube::new(client, settings, clock),
        })
    }

    pub fn get(&self, network: Network) -> &dyn Collector {
        match network {
            Network::Bluesky => &self.bluesky,
            Network::Mastodon => &self.mastodon,
            Network::YouTube => &self.youtube,
        }
    }
}

/// Why an account cannot be collected any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gone {
    NotFound,
    Suspended,
    Deactivated,
    /// Moved to this account.
    Moved(String),
}

impl fmt::Display for Gone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gone::NotFound => f.write_str("does not exist; check the spelling"),
            Gone::Suspended => f.write_str("is suspended"),
            Gone::Deactivated => f.write_str("is deactivated"),
            Gone::Moved(to) => write!(f, "has moved to {to}; track that account instead"),
        }
    }
}

/// What can go wrong collecting. The first group is worded for the person who named the account
/// (it is the reply they see); the rest say which host did what, for the log and for `/track
/// list`. None of them ever holds a URL's query, where the YouTube key travels.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{}", account::accepts(*.network, .input))]
    BadAccount { network: Network, input: String },
    #[error(
        "Mastodon accounts live on an instance: write `@{user}@instance`, such as `@{user}@mastodon.social`."
    )]
    NeedsInstance { user: String },
    #[error("The {network} account {account} {reason}.")]
    AccountGone {
        network: Network,
        account: String,
        reason: Gone,
    },
    #[error(
        "{instance} only answers people signed in to it (401), so metricord cannot read {account} there."
    )]
    SignInRequired { instance: String, account: String },
    #[error(
        "YouTube needs an API key: set METRICORD_YOUTUBE_API_KEY (or `[collect] youtube_api_key`) and restart."
    )]
    NoApiKey,
    #[error("YouTube refused the API key ({reason}); check it in the Google Cloud console.")]
    KeyRefused { reason: String },
    #[error(
        "YouTube's daily quota for this bot is spent; collection resumes at midnight Pacific time ({} UTC).",
        .resets_at.format("%Y-%m-%d %H:%M")
    )]
    QuotaSpent { resets_at: DateTime<Utc> },
    #[error("{host} asks metricord to wait until {} UTC before asking again.", .until.format("%Y-%m-%d %H:%M:%S"))]
    RateLimited { host: String, until: DateTime<Utc> },
    #[error("{host} did not answer after {attempts} tries: {problem}.")]
    Unavailable {
        host: String,
        attempts: u32,
        problem: String,
    },
    #[error("{host} sent an answer larger than {megabytes} MB; it was not read.")]
    TooLarge { host: String, megabytes: usize },
    #[error("{host} answered in a shape metricord does not understand: {problem}.")]
    Malformed { host: String, problem: String },
    #[error("{host} refused the request ({status}): {message}.")]
    Refused {
        host: String,
        status: u16,
        message: String,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    #[error("a {expected} collector was given the {given} account {account}")]
    WrongNetwork {
        expected: Network,
        given: Network,
        account: String,
    },
}

impl Error {
    /// `account` is gone for `reason`.
    pub fn gone(account: &Account, reason: Gone) -> Error {
        Error::AccountGone {
            network: account.network(),
            account: account.to_string(),
            reason,
        }
    }

    /// The account is gone (deleted, suspended, moved, never existed): mark it failing and try
    /// it again at most daily.
    pub fn is_gone(&self) -> bool {
        matches!(self, Error::AccountGone { .. })
    }

    /// The person who named the account typed something that is not one.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::BadAccount { .. } | Error::NeedsInstance { .. })
    }

    /// When asking again makes sense, if the platform said.
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Error::QuotaSpent { resets_at } => Some(*resets_at),
            Error::RateLimited { until, .. } => Some(*until),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Refuses an account of another network (a caller's mistake, never a person's).
fn expect_network(expected: Network, account: &Account) -> Result<()> {
    if account.network() == expected {
        Ok(())
    } else {
        Err(Error::WrongNetwork {
            expected,
            given: account.network(),
            account: account.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtube_growth_finer_than_three_significant_figures_is_not_real() {
        assert_eq!(Network::YouTube.follower_resolution(1_234_567), 10_000);
        assert_eq!(Network::YouTube.follower_resolution(45_600), 100);
        assert_eq!(Network::YouTube.follower_resolution(999), 1);
        assert_eq!(Network::YouTube.follower_resolution(0), 1);
        assert_eq!(Network::Bluesky.follower_resolution(1_234_567), 1);
    }

    #[test]
    fn the_collectors_can_be_shared_across_tasks() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<Collectors>();
        shared::<Error>();
    }

    #[test]
    fn each_network_has_its_collector() {
        let collectors = Collectors::new(&CollectSettings::default(), Clock::System).unwrap();
        for network in Network::ALL {
            assert_eq!(collectors.get(network).network(), network);
        }
    }

    #[test]
    fn networks_are_named_as_platforms() {
        for network in Network::ALL {
            assert_eq!(Network::from_platform(network.platform()), Some(network));
        }
        assert_eq!(Network::from_platform("x"), None);
    }

    #[test]
    fn a_hidden_subscriber_count_is_described_as_missing_not_zero() {
        let profile = Profile {
            account: Account::parse(Network::YouTube, "UCuAXFkgsw1L7xaCfnd5JJOw").unwrap(),
            handle: "@balletwest".into(),
            name: "Ballet West".into(),
            followers: None,
            link: "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw".into(),
        };
        let text = profile.describe();
        assert!(text.contains("hidden") && text.contains("not 0"), "{text}");
        let shown = Profile {
            followers: Some(12_400),
            ..profile
        };
        assert!(shown.describe().contains("12,400 subscribers"));
    }
}
