//! Mastodon, on the account's own instance, without a login.
//!
//! `GET /api/v1/accounts/lookup?acct=` gives the account (its id and followers), `GET
//! /api/v1/accounts/:id/statuses?exclude_reblogs=true` its posts, 40 a page, the next page named
//! by the `Link` header. Asking the account's own instance is what makes the counts the most
//! complete there are: another instance only knows the part of the fediverse it federates with.
//! Some instances answer 401 to anonymous reads (whitelist mode); that is said plainly for that
//! account. Typed serde structs follow the documented Account and Status entities.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::http::{self, Http, Reply};
use super::{
    Account, Collector, Cost, Error, Gone, Network, Poll, Post, Profile, Result, expect_network,
};
use crate::clock::Clock;
use crate::settings::CollectSettings;

/// Where an instance's API lives, from its domain.
type InstanceUrl = Arc<dyn Fn(&str) -> String + Send + Sync>;

pub struct Mastodon {
    http: Http,
    instance_url: InstanceUrl,
    max_pages: u32,
}

impl std::fmt::Debug for Mastodon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mastodon")
            .field("http", &self.http)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct AccountView {
    id: String,
    username: String,
    display_name: String,
    url: String,
    followers_count: u64,
    #[serde(default)]
    suspended: bool,
    moved: Option<Moved>,
}

#[derive(Deserialize)]
struct Moved {
    acct: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    created_at: String,
    uri: String,
    url: Option<String>,
    favourites_count: u64,
    replies_count: u64,
    reblogs_count: u64,
    reblog: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: String,
}

impl Mastodon {
    /// Reads each instance at `https://<instance>`.
    pub fn new(client: reqwest::Client, settings: &CollectSettings, clock: Clock) -> Mastodon {
        Mastodon {
            http: Http::new(
                client,
                settings.mastodon_per_minute,
                settings.connections_per_host,
                clock,
            ),
            instance_url: Arc::new(|instance| format!("https://{instance}")),
            max_pages: settings.max_pages,
        }
    }

    /// Reads each instance where `url` says instead: a local fake, in tests and the benchmark.
    pub fn with_instance_url(
        mut self,
        url: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> Mastodon {
        self.instance_url = Arc::new(url);
        self
    }

    async fn get(&self, account: &Account, url: &Url, cost: &mut Cost) -> Result<Reply> {
        let reply = self.http.get(url, cost).await?;
        let gone = |reason| Error::gone(account, reason);
        match reply.status {
            status if status.is_success() => Ok(reply),
            StatusCode::NOT_FOUND => Err(gone(Gone::NotFound)),
            // Until 3.3, a suspended account answered 410.
            StatusCode::GONE => Err(gone(Gone::Suspended)),
            StatusCode::UNAUTHORIZED => Err(Error::SignInRequired {
                instance: reply.host,
                account: account.to_string(),
            }),
            status => {
                let body: ErrorBody = serde_json::from_slice(&reply.body).unwrap_or_default();
                Err(Error::Refused {
                    host: reply.host,
                    status: status.as_u16(),
                    message: if body.error.is_empty() {
                        "no reason given".to_string()
                    } else {
                        body.error
                    },
                })
            }
        }
    }

    /// The account as its instance has it, checked to be there still.
    async fn lookup(&self, account: &Account, cost: &mut Cost) -> Result<(AccountView, String)> {
        let (user, instance) = account.user_and_instance().ok_or(Error::WrongNetwork {
            expected: Network::Mastodon,
            given: account.network(),
            account: account.to_string(),
        })?;
        let base = (self.instance_url)(instance);
        let url = http::endpoint(&base, "api/v1/accounts/lookup", &[("acct", user)])?;
        let found: AccountView = self.get(account, &url, cost).await?.json()?;
        let gone = |reason| Error::gone(account, reason);
        if found.suspended {
            return Err(gone(Gone::Suspended));
        }
        if let Some(moved) = &found.moved {
            return Err(gone(Gone::Moved(format!("@{}", moved.acct))));
        }
        Ok((found, base))
    }
}

#[async_trait::async_trait]
impl Collector for Mastodon {
    fn network(&self) -> Network {
        Network::Mastodon
    }

    async fn resolve(&self, account: &Account) -> Result<Profile> {
        expect_network(Network::Mastodon, account)?;
        let (found, _) = self.lookup(account, &mut Cost::default()).await?;
        let instance = account.user_and_instance().map_or("", |(_, i)| i);
        let canonical =
            Account::parse(Network::Mastodon, &format!("{}@{instance}", found.username))
                .unwrap_or_else(|_| account.clone());
        Ok(Profile {
            handle: canonical.to_string(),
            name: if found.display_name.trim().is_empty() {
                found.username.clone()
            } else {
                found.display_name
            },
            followers: Some(found.followers_count),
            link: found.url,
            account: canonical,
        })
    }

    async fn poll(&self, account: &Account, since: DateTime<Utc>) -> Result<Poll> {
        expect_network(Network::Mastodon, account)?;
        let mut cost = Cost::default();
        let (found, base) = self.lookup(account, &mut cost).await?;
        let mut url = http::endpoint(&base, "api/v1/accounts", &[])?;
        url.path_segments_mut()
            .map_err(|_| Error::Setup(format!("\"{base}\" cannot hold a path")))?
            .push(&found.id)
            .push("statuses");
        url.query_pairs_mut()
            .append_pair("exclude_reblogs", "true")
            .append_pair("limit", "40");
        let mut posts = Vec::new();
        let mut complete = false;
        while cost.pages < self.max_pages {
            let reply = self.get(account, &url, &mut cost).await?;
            let page: Vec<Status> = reply.json()?;
            cost.pages += 1;
            let mut older = false;
            for status in &page {
                let published = DateTime::parse_from_rfc3339(&status.created_at)
                    .map_err(|_| {
                        reply.malformed(format!("status {} has no valid created_at", status.id))
                    })?
                    .with_timezone(&Utc);
                if published < since {
                    older = true;
                    continue;
                }
                if status.reblog.is_some() {
                    continue;
                }
                posts.push(Post {
                    id: status.id.clone(),
                    link: status.url.clone().unwrap_or_else(|| status.uri.clone()),
                    published,
                    applause: Some(status.favourites_count),
                    conversation: Some(status.replies_count),
                    amplification: Some(status.reblogs_count),
                });
            }
            let next = http::next_link(&reply.headers);
            match next {
                Some(next) if !older && !page.is_empty() => {
                    // The next page must be on the same instance: its limits are the ones kept.
                    url = Url::parse(&next)
                        .ok()
                        .filter(|n| n.origin() == url.origin())
                        .ok_or_else(|| {
                            reply.malformed("the next page's link points to another server")
                        })?;
                }
                _ => {
                    complete = true;
                    break;
                }
            }
        }
        Ok(Poll {
            followers: Some(found.followers_count),
            posts,
            complete,
            cost,
        })
    }
}
