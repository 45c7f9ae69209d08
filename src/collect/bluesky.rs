//! Bluesky, through a public AppView (XRPC over HTTPS, no login).
//!
//! `app.bsky.actor.getProfile` gives the followers, `app.bsky.feed.getAuthorFeed` the posts with
//! their counts, a page at a time behind a cursor. The author feed also holds the account's
//! reposts (a `reason` of `#reasonRepost`: not its posts, skipped) and, for clients that ask, its
//! pinned post on top (`#reasonPin`), which also appears again in its place: posts are counted
//! once by URI, and neither kind decides when the reading stops.
//!
//! Typed serde structs over the shared client rather than `atrium-api`: these two methods use a
//! dozen fields, and atrium-api brings 34,000 lines of generated lexicon types and an IPLD stack
//! to compile for them. The field names and optionality below follow the lexicons
//! (`app.bsky.actor.defs#profileViewDetailed`, `app.bsky.feed.defs#feedViewPost`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::http::{self, Http, Reply};
use super::{
    Account, Collector, Cost, Error, Gone, Network, Poll, Post, Profile, Result, expect_network,
};
use crate::clock::Clock;
use crate::settings::CollectSettings;

/// Posts a page; the lexicon's maximum.
const PAGE: &str = "100";

#[derive(Debug)]
pub struct Bluesky {
    http: Http,
    base: String,
    max_pages: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    did: String,
    handle: String,
    display_name: Option<String>,
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct Feed {
    cursor: Option<String>,
    feed: Vec<FeedItem>,
}

#[derive(Deserialize)]
struct FeedItem {
    post: PostView,
    reason: Option<Reason>,
}

#[derive(Deserialize)]
struct Reason {
    #[serde(rename = "$type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    author: Author,
    record: Record,
    indexed_at: String,
    like_count: Option<u64>,
    reply_count: Option<u64>,
    repost_count: Option<u64>,
    quote_count: Option<u64>,
}

#[derive(Deserialize)]
struct Author {
    did: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    created_at: Option<String>,
}

/// The error body of an XRPC call.
#[derive(Deserialize, Default)]
struct XrpcError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

impl Bluesky {
    pub fn new(client: reqwest::Client, settings: &CollectSettings, clock: Clock) -> Bluesky {
        Bluesky {
            http: Http::new(
                client,
                settings.bluesky_per_minute,
                settings.connections_per_host,
                clock,
            ),
            base: settings.bluesky_url.clone(),
            max_pages: settings.max_pages,
        }
    }

    async fn call(
        &self,
        account: &Account,
        method: &str,
        query: &[(&str, &str)],
        cost: &mut Cost,
    ) -> Result<Reply> {
        let url = http::endpoint(&self.base, &format!("xrpc/{method}"), query)?;
        let reply = self.http.get(&url, cost).await?;
        if reply.status.is_success() {
            return Ok(reply);
        }
        let error: XrpcError = serde_json::from_slice(&reply.body).unwrap_or_default();
        let gone = |reason| Error::gone(account, reason);
        // The AppView says a profile is missing with a 400 and this message; a 404 without
        // it is more likely a wrong `bluesky_url` than a missing account.
        let missing = error.message.to_lowercase().contains("not found")
            && matches!(reply.status.as_u16(), 400 | 404);
        Err(match error.error.as_str() {
            "AccountTakedown" => gone(Gone::Suspended),
            "AccountDeactivated" => gone(Gone::Deactivated),
            _ if missing => gone(Gone::NotFound),
            _ => Error::Refused {
                host: reply.host,
                status: reply.status.as_u16(),
                message: [error.message, error.error]
                    .into_iter()
                    .find(|m| !m.is_empty())
                    .unwrap_or_else(|| "no reason given".to_string()),
            },
        })
    }

    /// The profile, and the account in its stable form (the DID).
    async fn profile(&self, account: &Account, cost: &mut Cost) -> Result<(ProfileView, Account)> {
        let reply = self
            .call(
                account,
                "app.bsky.actor.getProfile",
                &[("actor", account.key())],
                cost,
            )
            .await?;
        let profile: ProfileView = reply.json()?;
        let did = Account::parse(Network::Bluesky, &profile.did)
            .ok()
            .filter(|did| did.key().starts_with("did:"))
            .ok_or_else(|| reply.malformed(format!("\"{}\" is not a DID", profile.did)))?;
        Ok((profile, did))
    }
}

/// When a post was published: its own `createdAt`, unless that is later than when the AppView
/// first saw it (clients can set any date; Bluesky sorts by the earlier of the two too).
fn published(post: &PostView, reply: &Reply) -> Result<DateTime<Utc>> {
    let indexed = DateTime::parse_from_rfc3339(&post.indexed_at)
        .map_err(|_| reply.malformed(format!("post {} has no valid indexedAt", post.uri)))?
        .with_timezone(&Utc);
    let created = post
        .record
        .created_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    Ok(created.map_or(indexed, |c| c.min(indexed)))
}

/// `https://bsky.app/profile/<did>/post/<rkey>` from `at://<did>/app.bsky.feed.post/<rkey>`.
fn post_link(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let (did, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    (collection == "app.bsky.feed.post" && parts.next().is_none())
        .then(|| format!("https://bsky.app/profile/{did}/post/{rkey}"))
}

#[async_trait::async_trait]
impl Collector for Bluesky {
    fn network(&self) -> Network {
        Network::Bluesky
    }

    async fn resolve(&self, account: &Account) -> Result<Profile> {
        expect_network(Network::Bluesky, account)?;
        let (profile, canonical) = self.profile(account, &mut Cost::default()).await?;
        // An account whose handle no longer verifies is shown as `handle.invalid`.
        let shown = if profile.handle == "handle.invalid" {
            &profile.did
        } else {
            &profile.handle
        };
        Ok(Profile {
            account: canonical,
            handle: format!("@{}", profile.handle),
            name: profile
                .display_name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| profile.handle.clone()),
            followers: profile.followers_count,
            link: format!("https://bsky.app/profile/{shown}"),
        })
    }

    async fn poll(&self, account: &Account, since: DateTime<Utc>) -> Result<Poll> {
        expect_network(Network::Bluesky, account)?;
        let mut cost = Cost::default();
        let (profile, _) = self.profile(account, &mut cost).await?;
        let mut posts = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut complete = false;
        while cost.pages < self.max_pages {
            let mut query = vec![
                ("actor", profile.did.as_str()),
                ("limit", PAGE),
                ("filter", "posts_with_replies"),
            ];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let reply = self
                .call(account, "app.bsky.feed.getAuthorFeed", &query, &mut cost)
                .await?;
            let page: Feed = reply.json()?;
            cost.pages += 1;
            let mut older = false;
            for item in &page.feed {
                let kind = item.reason.as_ref().map(|r| r.kind.as_str());
                if kind == Some("app.bsky.feed.defs#reasonRepost")
                    || item.post.author.did != profile.did
                {
                    continue;
                }
                let at = published(&item.post, &reply)?;
                if at < since {
                    // A pinned post sits on top whatever its age.
                    older |= kind != Some("app.bsky.feed.defs#reasonPin");
                    continue;
                }
                if !seen.insert(item.post.uri.clone()) {
                    continue;
                }
                let link = post_link(&item.post.uri).ok_or_else(|| {
                    reply.malformed(format!("\"{}\" is not a post's at:// URI", item.post.uri))
                })?;
                let post = &item.post;
                posts.push(Post {
                    id: post.uri.clone(),
                    link,
                    published: at,
                    applause: post.like_count,
                    conversation: post.reply_count,
                    amplification: match (post.repost_count, post.quote_count) {
                        (None, None) => None,
                        (reposts, quotes) => Some(reposts.unwrap_or(0) + quotes.unwrap_or(0)),
                    },
                });
            }
            cursor = page.cursor.filter(|c| !c.is_empty());
            if older || cursor.is_none() || page.feed.is_empty() {
                complete = true;
                break;
            }
        }
        posts.sort_by_key(|p| std::cmp::Reverse(p.published));
        Ok(Poll {
            followers: profile.followers_count,
            posts,
            complete,
            cost,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_links_to_its_page_on_bsky_app() {
        assert_eq!(
            post_link("at://did:plc:abc/app.bsky.feed.post/3kxyz").as_deref(),
            Some("https://bsky.app/profile/did:plc:abc/post/3kxyz")
        );
        assert_eq!(post_link("at://did:plc:abc/app.bsky.feed.like/3k"), None);
        assert_eq!(post_link("https://bsky.app/x"), None);
    }
}
