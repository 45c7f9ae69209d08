//! YouTube, through the Data API v3 with an API key.
//!
//! `channels.list` (parts snippet, statistics, contentDetails) gives the subscribers, unless the
//! channel hides them (`hiddenSubscriberCount`), and the playlist of its uploads;
//! `playlistItems.list` pages through that playlist, newest first, 50 a page; `videos.list` gives
//! each video's likes and comments, 50 videos a call. YouTube publishes no share count, so
//! amplification is None, never 0. Counts arrive as strings (the API's uint64).
//!
//! Every call costs one quota unit, failed ones too: [`super::quota`] keeps the day's budget, and
//! a poll waits for the reset at midnight Pacific time when it is spent, while a resolve (someone
//! is waiting for an answer) says when it comes. The key is a secret: it travels only in the
//! request's query, which nothing logs or puts in an error.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::http::{self, Http, MAX_ATTEMPTS};
use super::quota::Quota;
use super::{
    Account, Collector, Cost, Error, Gone, Network, Poll, Post, Profile, Result, expect_network,
};
use crate::clock::Clock;
use crate::settings::CollectSettings;

/// Items a page, and ids a `videos.list` call: the API's maximum for both.
const PAGE: usize = 50;

#[derive(Debug)]
pub struct YouTube {
    http: Http,
    base: String,
    key: SecretString,
    max_pages: u32,
    clock: Clock,
    quota: Quota,
}

#[derive(Deserialize)]
struct ChannelList {
    #[serde(default)]
    items: Vec<Channel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Channel {
    id: String,
    snippet: Option<Snippet>,
    statistics: ChannelStatistics,
    content_details: ContentDetails,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    title: String,
    custom_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelStatistics {
    subscriber_count: Option<String>,
    #[serde(default)]
    hidden_subscriber_count: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentDetails {
    related_playlists: RelatedPlaylists,
}

#[derive(Deserialize)]
struct RelatedPlaylists {
    uploads: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistItems {
    next_page_token: Option<String>,
    #[serde(default)]
    items: Vec<PlaylistItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistItem {
    content_details: ItemDetails,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemDetails {
    video_id: String,
    /// Absent for a private or deleted video.
    video_published_at: Option<String>,
}

#[derive(Deserialize)]
struct VideoList {
    #[serde(default)]
    items: Vec<Video>,
}

#[derive(Deserialize)]
struct Video {
    id: String,
    statistics: VideoStatistics,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatistics {
    /// Absent when the owner hides likes.
    like_count: Option<String>,
    /// Absent when comments are off.
    comment_count: Option<String>,
}

/// The error body Google APIs send.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<ErrorReason>,
    /// `google.rpc.ErrorInfo` entries; an invalid key is `API_KEY_INVALID` here.
    #[serde(default)]
    details: Vec<ErrorReason>,
}

#[derive(Deserialize, Default)]
struct ErrorReason {
    #[serde(default)]
    reason: String,
}

/// What a refused call means, from Google's error body.
#[derive(Debug, PartialEq)]
enum Refusal {
    /// The day's quota is spent.
    Quota,
    /// Too many requests a second.
    Busy,
    /// The key is wrong, expired, restricted, or its project lacks the API.
    Key(String),
    /// What was asked for does not exist (a channel without uploads).
    NotFound,
    Other(String),
}

fn refusal(status: StatusCode, body: &[u8]) -> Refusal {
    let body: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let reasons: Vec<&str> = body
        .error
        .errors
        .iter()
        .chain(&body.error.details)
        .map(|e| e.reason.as_str())
        .collect();
    let any = |names: &[&str]| reasons.iter().any(|r| names.contains(r));
    let message = match body.error.message.trim_end_matches('.') {
        "" => "no reason given".to_string(),
        message => message.to_string(),
    };
    match status {
        StatusCode::NOT_FOUND => Refusal::NotFound,
        StatusCode::FORBIDDEN if any(&["quotaExceeded", "dailyLimitExceeded"]) => Refusal::Quota,
        StatusCode::FORBIDDEN if any(&["rateLimitExceeded", "userRateLimitExceeded"]) => {
            Refusal::Busy
        }
        StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN
            if reasons.iter().any(|r| r.starts_with("API_KEY"))
                || any(&[
                    "keyInvalid",
                    "keyExpired",
                    "accessNotConfigured",
                    "ipRefererBlocked",
                    "forbidden",
                ]) =>
        {
            Refusal::Key(message)
        }
        _ => Refusal::Other(message),
    }
}

/// A count the API sends as a string.
fn count(text: Option<&str>, host: &str, what: &str) -> Result<Option<u64>> {
    text.map(|t| {
        t.parse::<u64>().map_err(|_| Error::Malformed {
            host: host.to_string(),
            problem: format!("{what} \"{t}\" is not a count"),
        })
    })
    .transpose()
}

impl YouTube {
    pub fn new(client: reqwest::Client, settings: &CollectSettings, clock: Clock) -> YouTube {
        YouTube {
            http: Http::new(
                client,
                settings.youtube_per_minute,
                settings.connections_per_host,
                clock.clone(),
            ),
            base: settings.youtube_url.clone(),
            key: settings.youtube_api_key.clone(),
            max_pages: settings.max_pages,
            quota: Quota::new(settings.youtube_daily_quota, clock.clone()),
            clock,
        }
    }

    /// One API call: budgeted, with the key, its errors read. None when the thing asked for does
    /// not exist (404).
    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        query: &[(&str, &str)],
        wait: bool,
        cost: &mut Cost,
    ) -> Result<Option<T>> {
        if self.key.expose_secret().is_empty() {
            return Err(Error::NoApiKey);
        }
        let mut url = http::endpoint(&self.base, method, query)?;
        url.query_pairs_mut()
            .append_pair("key", self.key.expose_secret());
        loop {
            self.quota.reserve(MAX_ATTEMPTS, wait).await?;
            let before = cost.requests;
            let sent = self.http.get(&url, cost).await;
            let tries = cost.requests - before;
            cost.quota_units += tries;
            self.quota.refund(MAX_ATTEMPTS.saturating_sub(tries));
            let reply = sent?;
            if reply.status.is_success() {
                return reply.json().map(Some);
            }
            match refusal(reply.status, &reply.body) {
                Refusal::Quota => {
                    // Google counts differently (the key may be shared): trust it for today.
                    let resets_at = self.quota.spent();
                    if !wait {
                        return Err(Error::QuotaSpent { resets_at });
                    }
                }
                Refusal::Busy => {
                    return Err(Error::RateLimited {
                        host: reply.host,
                        until: self.clock.now() + chrono::Duration::minutes(1),
                    });
                }
                Refusal::Key(reason) => return Err(Error::KeyRefused { reason }),
                Refusal::NotFound => return Ok(None),
                Refusal::Other(message) => {
                    return Err(Error::Refused {
                        host: reply.host,
                        status: reply.status.as_u16(),
                        message,
                    });
                }
            }
        }
    }

    /// The channel, or the error saying it is not there.
    async fn channel(
        &self,
        account: &Account,
        parts: &str,
        wait: bool,
        cost: &mut Cost,
    ) -> Result<Channel> {
        let key = account.key();
        let by = if key.starts_with('@') {
            ("forHandle", key)
        } else {
            ("id", key)
        };
        let list: Option<ChannelList> = self
            .call("channels", &[("part", parts), by], wait, cost)
            .await?;
        list.and_then(|l| l.items.into_iter().next())
            .ok_or_else(|| Error::gone(account, Gone::NotFound))
    }

    /// The channel's subscribers: None when it hides them.
    fn subscribers(channel: &Channel, host: &str) -> Result<Option<u64>> {
        if channel.statistics.hidden_subscriber_count {
            return Ok(None);
        }
        match count(
            channel.statistics.subscriber_count.as_deref(),
            host,
            "subscriberCount",
        )? {
            Some(n) => Ok(Some(n)),
            None => Err(Error::Malformed {
                host: host.to_string(),
                problem: "a channel that does not hide its subscribers has no subscriberCount"
                    .to_string(),
            }),
        }
    }

    fn host(&self) -> String {
        reqwest::Url::parse(&self.base).map_or_else(|_| self.base.clone(), |u| http::host_of(&u))
    }
}

#[async_trait::async_trait]
impl Collector for YouTube {
    fn network(&self) -> Network {
        Network::YouTube
    }

    async fn resolve(&self, account: &Account) -> Result<Profile> {
        expect_network(Network::YouTube, account)?;
        let parts = "snippet,statistics,contentDetails";
        let channel = self
            .channel(account, parts, false, &mut Cost::default())
            .await?;
        let host = self.host();
        let malformed = |problem: &str| Error::Malformed {
            host: host.clone(),
            problem: problem.to_string(),
        };
        let followers = Self::subscribers(&channel, &host)?;
        let canonical = Account::parse(Network::YouTube, &channel.id)
            .map_err(|_| malformed("the channel's id is not a channel id"))?;
        let snippet = channel
            .snippet
            .ok_or_else(|| malformed("a channel without its snippet"))?;
        let handle = match snippet.custom_url {
            Some(url) if url.starts_with('@') => url,
            Some(url) if !url.is_empty() => format!("@{url}"),
            _ => channel.id.clone(),
        };
        Ok(Profile {
            link: format!("https://www.youtube.com/channel/{}", channel.id),
            account: canonical,
            handle,
            name: snippet.title,
            followers,
        })
    }

    async fn poll(&self, account: &Account, since: DateTime<Utc>) -> Result<Poll> {
        expect_network(Network::YouTube, account)?;
        let mut cost = Cost::default();
        let host = self.host();
        let channel = self
            .channel(account, "statistics,contentDetails", true, &mut cost)
            .await?;
        let followers = Self::subscribers(&channel, &host)?;
        let mut uploads = Vec::new();
        let mut complete = true;
        if let Some(playlist) = &channel.content_details.related_playlists.uploads {
            let mut token: Option<String> = None;
            complete = false;
            while cost.pages < self.max_pages {
                let page = PAGE.to_string();
                let mut query = vec![
                    ("part", "contentDetails"),
                    ("playlistId", playlist.as_str()),
                    ("maxResults", page.as_str()),
                ];
                if let Some(token) = &token {
                    query.push(("pageToken", token));
                }
                // A channel that never uploaded has no uploads playlist to read (404).
                let Some(page): Option<PlaylistItems> =
                    self.call("playlistItems", &query, true, &mut cost).await?
                else {
                    complete = true;
                    break;
                };
                cost.pages += 1;
                let mut older = false;
                for item in &page.items {
                    let Some(at) = &item.content_details.video_published_at else {
                        continue;
                    };
                    let at = DateTime::parse_from_rfc3339(at)
                        .map_err(|_| Error::Malformed {
                            host: host.clone(),
                            problem: format!("videoPublishedAt \"{at}\" is not a time"),
                        })?
                        .with_timezone(&Utc);
                    if at < since {
                        older = true;
                    } else {
                        uploads.push((item.content_details.video_id.clone(), at));
                    }
                }
                token = page.next_page_token.filter(|t| !t.is_empty());
                if older || token.is_none() || page.items.is_empty() {
                    complete = true;
                    break;
                }
            }
        }
        let mut posts = Vec::with_capacity(uploads.len());
        for batch in uploads.chunks(PAGE) {
            let ids = batch
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let query = [("part", "statistics"), ("id", ids.as_str())];
            let list: Option<VideoList> = self.call("videos", &query, true, &mut cost).await?;
            let videos = list.map(|l| l.items).unwrap_or_default();
            // A video deleted or made private since the playlist was read is left out.
            for (id, published) in batch {
                let Some(video) = videos.iter().find(|v| &v.id == id) else {
                    continue;
                };
                let stats = &video.statistics;
                posts.push(Post {
                    id: id.clone(),
                    link: format!("https://www.youtube.com/watch?v={id}"),
                    published: *published,
                    applause: count(stats.like_count.as_deref(), &host, "likeCount")?,
                    conversation: count(stats.comment_count.as_deref(), &host, "commentCount")?,
                    amplification: None,
                });
            }
        }
        Ok(Poll {
            followers,
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
    fn googles_error_bodies_say_quota_key_or_not_found() {
        let fixture = |name: &str| {
            std::fs::read(format!(
                "{}/tests/fixtures/youtube/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        assert_eq!(
            refusal(StatusCode::FORBIDDEN, &fixture("error-quota.json")),
            Refusal::Quota
        );
        assert_eq!(
            refusal(StatusCode::BAD_REQUEST, &fixture("error-key.json")),
            Refusal::Key("API key not valid. Please pass a valid API key".to_string())
        );
        let old_key =
            br#"{"error":{"code":400,"message":"Bad key.","errors":[{"reason":"keyInvalid"}]}}"#;
        assert!(matches!(
            refusal(StatusCode::BAD_REQUEST, old_key),
            Refusal::Key(_)
        ));
        assert_eq!(
            refusal(StatusCode::NOT_FOUND, b"not json"),
            Refusal::NotFound
        );
        assert_eq!(
            refusal(StatusCode::BAD_REQUEST, b"<html>"),
            Refusal::Other("no reason given".to_string())
        );
    }
}
