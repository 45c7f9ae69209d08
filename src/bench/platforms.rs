//! The fake platforms `metricord bench --collect` polls: a Bluesky AppView, Mastodon instances
//! and the YouTube Data API, each a local HTTP server (hyper) on its own port, so that each is a
//! host of its own to the collectors' per-host limits. Every answer waits the same latency, and
//! is made up from the account's number, in the shapes the platforms document, so the bench can
//! check what each poll found. Each server records when requests arrived, to check the pace.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// What one fake server plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plays {
    Bluesky,
    Mastodon,
    YouTube,
}

/// One fake server: its URL, and the arrival times of the requests it answered.
pub struct Site {
    pub url: String,
    pub plays: Plays,
    arrivals: Mutex<Vec<Instant>>,
    latency: Duration,
    now: DateTime<Utc>,
}

/// The bench's API key; the fake YouTube refuses any other.
pub const KEY: &str = "bench-key";
const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Account `i`'s DID: its number in the 24 base32 characters of a did:plc.
pub fn did(i: usize) -> String {
    let id: String = (0..24)
        .rev()
        .map(|k| BASE32[i.checked_shr(5 * k).unwrap_or(0) % 32] as char)
        .collect();
    format!("did:plc:{id}")
}

fn did_number(did: &str) -> Option<usize> {
    did.strip_prefix("did:plc:")?
        .bytes()
        .try_fold(0usize, |n, b| {
            let digit = BASE32.iter().position(|&c| c == b)?;
            n.checked_mul(32)?.checked_add(digit)
        })
}

pub fn channel(i: usize) -> String {
    format!("UCbench{i:017}")
}

/// Followers of account `i`.
pub fn followers(i: usize) -> u64 {
    1_000 + 37 * i as u64
}

/// Posts account `i` published in the last week (one more, older, follows them).
pub fn posts(i: usize) -> usize {
    1 + i % 4
}

/// The likes of post `j`; replies are `j`, reposts 2 and quotes 1.
pub fn likes(j: usize) -> u64 {
    10 + j as u64
}

/// A request's query parameters.
struct Query(Vec<(String, String)>);

impl Query {
    /// The parameter's value, or "" without it.
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl Site {
    /// Starts a server playing `plays` on a free local port.
    pub async fn start(
        plays: Plays,
        latency: Duration,
        now: DateTime<Utc>,
    ) -> std::io::Result<Arc<Site>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let site = Arc::new(Site {
            url: format!("http://{}", listener.local_addr()?),
            plays,
            arrivals: Mutex::default(),
            latency,
            now,
        });
        let serving = site.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let site = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let site = site.clone();
                        async move { Ok::<_, Infallible>(site.answer(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(site)
    }

    pub fn arrivals(&self) -> Vec<Instant> {
        self.arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        self.arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Instant::now());
        tokio::time::sleep(self.latency).await;
        let url = reqwest::Url::parse(&format!("http://fake{}", request.uri()));
        let (path, query) = match &url {
            Ok(url) => (
                url.path().to_string(),
                url.query_pairs().into_owned().collect(),
            ),
            Err(_) => (String::new(), Vec::new()),
        };
        let q = Query(query);
        let body = match self.plays {
            Plays::Bluesky => self.bluesky(&path, &q),
            Plays::Mastodon => self.mastodon(&path, &q),
            Plays::YouTube if q.get("key") == KEY => self.youtube(&path, &q),
            Plays::YouTube => None,
        };
        let (status, body) = match body {
            Some(body) => (StatusCode::OK, body.to_string()),
            None => (
                StatusCode::NOT_FOUND,
                r#"{"error":"not found"}"#.to_string(),
            ),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        if self.plays == Plays::Mastodon && path.ends_with("/statuses") {
            // A next page is announced; the poll must not need it.
            let next = format!("<{}{path}?max_id=1>; rel=\"next\"", self.url);
            if let Ok(value) = hyper::header::HeaderValue::from_str(&next) {
                response.headers_mut().insert(hyper::header::LINK, value);
            }
        }
        response
    }

    /// When post `j` of an account was published; `j == posts(i)` is the older one.
    fn published(&self, i: usize, j: usize) -> String {
        let hours = if j == posts(i) {
            200
        } else {
            36 * j as i64 + 2
        };
        (self.now - chrono::Duration::hours(hours)).to_rfc3339()
    }

    fn bluesky(&self, path: &str, q: &Query) -> Option<Value> {
        let i = did_number(q.get("actor"))?;
        let did = did(i);
        let author = json!({"did": did, "handle": format!("bench{i}.bsky.example"), "displayName": format!("Bench {i}")});
        match path {
            "/xrpc/app.bsky.actor.getProfile" => Some(json!({
                "did": did, "handle": format!("bench{i}.bsky.example"), "displayName": format!("Bench {i}"),
                "followersCount": followers(i), "followsCount": 10, "postsCount": 100,
            })),
            "/xrpc/app.bsky.feed.getAuthorFeed" if q.get("cursor").is_empty() => {
                let feed: Vec<Value> = (0..=posts(i))
                    .map(|j| {
                        let at = self.published(i, j);
                        json!({"post": {
                            "uri": format!("at://{did}/app.bsky.feed.post/bench{j}"), "cid": format!("bafybench{j}"),
                            "author": author, "record": {"$type": "app.bsky.feed.post", "createdAt": at, "text": "x"},
                            "likeCount": likes(j), "replyCount": j, "repostCount": 2, "quoteCount": 1, "indexedAt": at,
                        }})
                    })
                    .collect();
                Some(json!({"feed": feed, "cursor": "next-page-not-needed"}))
            }
            _ => None,
        }
    }

    fn mastodon(&self, path: &str, q: &Query) -> Option<Value> {
        if path == "/api/v1/accounts/lookup" {
            let i: usize = q.get("acct").strip_prefix("bench")?.parse().ok()?;
            return Some(json!({
                "id": i.to_string(), "username": format!("bench{i}"), "acct": format!("bench{i}"),
                "display_name": format!("Bench {i}"), "url": format!("{}/@bench{i}", self.url),
                "followers_count": followers(i), "following_count": 10, "statuses_count": 100,
            }));
        }
        let i: usize = path
            .strip_prefix("/api/v1/accounts/")?
            .strip_suffix("/statuses")?
            .parse()
            .ok()?;
        if !q.get("max_id").is_empty() || q.get("exclude_reblogs") != "true" {
            return None;
        }
        let statuses: Vec<Value> = (0..=posts(i))
            .map(|j| {
                json!({
                    "id": format!("{}", 1_000 - j), "created_at": self.published(i, j),
                    "uri": format!("{}/users/bench{i}/statuses/{j}", self.url), "url": format!("{}/@bench{i}/{j}", self.url),
                    "favourites_count": likes(j), "replies_count": j, "reblogs_count": 3, "reblog": null,
                })
            })
            .collect();
        Some(Value::Array(statuses))
    }

    fn youtube(&self, path: &str, q: &Query) -> Option<Value> {
        match path {
            "/youtube/v3/channels" => {
                let i: usize = q.get("id").strip_prefix("UCbench")?.parse().ok()?;
                Some(json!({"items": [{
                    "id": channel(i), "snippet": {"title": format!("Bench {i}"), "customUrl": format!("@bench{i}")},
                    "statistics": {"subscriberCount": followers(i).to_string(), "hiddenSubscriberCount": false},
                    "contentDetails": {"relatedPlaylists": {"uploads": format!("UUbench{i:017}")}},
                }]}))
            }
            "/youtube/v3/playlistItems" if q.get("pageToken").is_empty() => {
                let i: usize = q.get("playlistId").strip_prefix("UUbench")?.parse().ok()?;
                let items: Vec<Value> = (0..=posts(i))
                    .map(|j| json!({"contentDetails": {"videoId": format!("v{i}-{j}"), "videoPublishedAt": self.published(i, j)}}))
                    .collect();
                Some(json!({"items": items, "nextPageToken": "next-page-not-needed"}))
            }
            "/youtube/v3/videos" => {
                let items: Vec<Value> = q.get("id")
                    .split(',')
                    .filter_map(|id| {
                        let j: usize = id.rsplit_once('-')?.1.parse().ok()?;
                        Some(json!({"id": id, "statistics": {"likeCount": likes(j).to_string(), "commentCount": j.to_string()}}))
                    })
                    .collect();
                Some(json!({"items": items}))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_did_is_a_valid_did_that_names_its_account() {
        for i in [0, 1, 31, 32, 999, 123_456] {
            let did = did(i);
            assert_eq!(did.len(), "did:plc:".len() + 24);
            assert_eq!(did_number(&did), Some(i));
        }
    }
}
