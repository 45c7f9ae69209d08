//! A fake of Bluesky's AppView, a Mastodon instance and the YouTube Data API, for the collection
//! tests: axum on 127.0.0.1 serving the fixtures in `tests/fixtures/` at the paths and with the
//! parameters the platforms use (see that folder's README for where each shape comes from).
//!
//! Tests push scripted answers for a path ahead of the fixtures (a 429 with `Retry-After`, a 500,
//! a body that is huge, endless, or never comes), and read back every request the fake saw, with
//! its query, User-Agent and arrival time. Times are tokio's, so under `start_paused` they are
//! the tests' virtual time.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The Bluesky account of the fixtures.
pub const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
/// The Mastodon account's id on its instance.
pub const MASTODON_ID: &str = "109412345678901234";
/// The YouTube channel of the fixtures, and the one that hides its subscribers.
pub const CHANNEL: &str = "UCuAXFkgsw1L7xaCfnd5JJOw";
pub const HIDDEN_CHANNEL: &str = "UCq9Zr0bDL3Yw8d1tQm2Pn7x";
/// The only YouTube API key the fake accepts.
pub const KEY: &str = "AIzaSyTEST-SECRET-KEY-0123456789abcd";

/// The text of a fixture, such as `bluesky/profile.json`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON, to change before pushing it.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixtures are JSON")
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub query: HashMap<String, String>,
    pub user_agent: String,
    pub at: Instant,
}

enum Payload {
    Bytes(Vec<u8>),
    /// `size` bytes, streamed; with a `Content-Length` if `announced`.
    Huge {
        size: usize,
        announced: bool,
    },
    /// Bytes for ever.
    Endless,
    /// Headers, then a body that never comes.
    Stall,
}

/// A scripted answer.
pub struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    payload: Payload,
}

impl Canned {
    pub fn status(status: u16) -> Canned {
        Canned::json(status, "{}")
    }

    pub fn json(status: u16, body: impl Into<String>) -> Canned {
        Canned {
            status,
            headers: Vec::new(),
            payload: Payload::Bytes(body.into().into_bytes()),
        }
    }

    pub fn fixture(status: u16, name: &str) -> Canned {
        Canned::json(status, fixture(name))
    }

    pub fn header(mut self, name: &str, value: &str) -> Canned {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn huge(size: usize, announced: bool) -> Canned {
        Canned {
            status: 200,
            headers: Vec::new(),
            payload: Payload::Huge { size, announced },
        }
    }

    pub fn endless() -> Canned {
        Canned {
            status: 200,
            headers: Vec::new(),
            payload: Payload::Endless,
        }
    }

    pub fn stall() -> Canned {
        Canned {
            status: 200,
            headers: Vec::new(),
            payload: Payload::Stall,
        }
    }
}

#[derive(Default)]
struct Inner {
    seen: Vec<Seen>,
    script: HashMap<String, VecDeque<Canned>>,
    /// Every answer waits this long first.
    delay: Option<Duration>,
    /// Every answer on these paths never finishes.
    stalled: Vec<String>,
}

#[derive(Default)]
struct Shared {
    inner: Mutex<Inner>,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

pub struct FakePlatforms {
    /// `http://127.0.0.1:PORT`: the Bluesky base URL, the Mastodon instance, and (with
    /// `/youtube/v3`) the YouTube base URL.
    pub url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakePlatforms {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakePlatforms {
    pub async fn start() -> FakePlatforms {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .fallback(answer)
            .with_state((shared.clone(), url.clone()));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the fake serves");
        });
        FakePlatforms { url, shared, task }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers the next request for `path` with `canned` instead of the fixtures.
    pub fn push(&self, path: &str, canned: Canned) {
        self.inner()
            .script
            .entry(path.to_string())
            .or_default()
            .push_back(canned);
    }

    /// Every answer waits `delay` first.
    pub fn delay(&self, delay: Duration) {
        self.inner().delay = Some(delay);
    }

    /// Every answer for paths starting with `prefix` never finishes.
    pub fn stall(&self, prefix: &str) {
        self.inner().stalled.push(prefix.to_string());
    }

    /// The requests seen whose path starts with `prefix`.
    pub fn seen(&self, prefix: &str) -> Vec<Seen> {
        self.inner()
            .seen
            .iter()
            .filter(|s| s.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The most requests that were being answered at once.
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak_in_flight.load(Ordering::SeqCst)
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn new(shared: &Arc<Shared>) -> InFlight {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn answer(
    State((shared, base)): State<(Arc<Shared>, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let _in_flight = InFlight::new(&shared);
    let path = uri.path().to_string();
    let query: HashMap<String, String> = reqwest::Url::parse(&format!("http://fake{uri}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let (scripted, delay, stalled) = {
        let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.seen.push(Seen {
            path: path.clone(),
            query: query.clone(),
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            at: Instant::now(),
        });
        let scripted = inner.script.get_mut(&path).and_then(VecDeque::pop_front);
        let stalled = inner.stalled.iter().any(|p| path.starts_with(p));
        (scripted, inner.delay, stalled)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if stalled {
        std::future::pending::<()>().await;
    }
    let canned = scripted.unwrap_or_else(|| route(&path, &query, &base));
    respond(canned)
}

fn respond(canned: Canned) -> Response {
    let status = StatusCode::from_u16(canned.status).unwrap_or(StatusCode::OK);
    let announced = match canned.payload {
        Payload::Huge {
            size,
            announced: true,
        } => Some(size.div_ceil(64 * 1024) * 64 * 1024),
        _ => None,
    };
    let body = match canned.payload {
        Payload::Bytes(bytes) => Body::from(bytes),
        Payload::Huge { size, .. } => {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            let chunks = size.div_ceil(chunk.len());
            Body::from_stream(stream::iter(
                (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            ))
        }
        Payload::Endless => {
            let chunk = Bytes::from(vec![b'['; 64 * 1024]);
            Body::from_stream(stream::repeat_with(move || {
                Ok::<_, std::io::Error>(chunk.clone())
            }))
        }
        Payload::Stall => Body::from_stream(stream::pending::<Result<Bytes, std::io::Error>>()),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        "application/json; charset=utf-8".parse().expect("a header"),
    );
    if let Some(size) = announced {
        headers.insert(header::CONTENT_LENGTH, size.into());
    }
    for (name, value) in canned.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            value.parse(),
        ) {
            headers.append(name, value);
        }
    }
    response
}

/// What the platforms answer, from the fixtures.
fn route(path: &str, query: &HashMap<String, String>, base: &str) -> Canned {
    let q = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    if path.starts_with("/youtube/v3/") && q("key") != KEY {
        return Canned::fixture(400, "youtube/error-key.json");
    }
    match path {
        "/xrpc/app.bsky.actor.getProfile" => match q("actor") {
            "ballet.bsky.social" | DID => Canned::fixture(200, "bluesky/profile.json"),
            _ => Canned::fixture(400, "bluesky/error-not-found.json"),
        },
        "/xrpc/app.bsky.feed.getAuthorFeed" if q("actor") == DID => match q("cursor") {
            "" => Canned::fixture(200, "bluesky/feed-1.json"),
            "2026-11-29T18:30:00.000Z" => Canned::fixture(200, "bluesky/feed-2.json"),
            "2026-11-26T09:00:00.000Z" => Canned::fixture(200, "bluesky/feed-3.json"),
            // The end of the feed, as the AppView answers it: no posts and no cursor.
            "2026-11-20T08:00:00.000Z" => Canned::json(200, r#"{"feed":[]}"#),
            _ => Canned::json(
                400,
                r#"{"error":"InvalidRequest","message":"a cursor the fake has no page for"}"#,
            ),
        },
        "/api/v1/accounts/lookup" => match q("acct") {
            "ballet" => Canned::fixture(200, "mastodon/account.json"),
            _ => Canned::fixture(404, "mastodon/error-404.json"),
        },
        "/youtube/v3/channels" => match (q("id"), q("forHandle")) {
            (CHANNEL, _) | (_, "@balletwest") => Canned::fixture(200, "youtube/channels.json"),
            (HIDDEN_CHANNEL, _) | (_, "@quietcompany") => {
                Canned::fixture(200, "youtube/channels-hidden.json")
            }
            _ => Canned::fixture(200, "youtube/channels-empty.json"),
        },
        "/youtube/v3/playlistItems" if q("playlistId") == format!("UU{}", &CHANNEL[2..]) => {
            match q("pageToken") {
                "" => Canned::fixture(200, "youtube/playlist-1.json"),
                "EAAaBlBUOkNBSQ" => Canned::fixture(200, "youtube/playlist-2.json"),
                "EAAaBlBUOkNBUQ" => Canned::fixture(200, "youtube/playlist-3.json"),
                // The end of the playlist: no items and no next page.
                "EAAaBlBUOkNBWQ" => Canned::json(
                    200,
                    r#"{"kind":"youtube#playlistItemListResponse","etag":"end","items":[],"pageInfo":{"totalResults":5,"resultsPerPage":50}}"#,
                ),
                _ => Canned::json(
                    400,
                    r#"{"error":{"code":400,"message":"invalid page token","errors":[{"reason":"invalidPageToken"}]}}"#,
                ),
            }
        }
        "/youtube/v3/playlistItems" => Canned::json(
            404,
            r#"{"error":{"code":404,"message":"The playlist identified with the request's playlistId parameter cannot be found.","errors":[{"message":"The playlist identified with the request's playlistId parameter cannot be found.","domain":"youtube.playlistItem","reason":"playlistNotFound","location":"playlistId","locationType":"parameter"}]}}"#,
        ),
        "/youtube/v3/videos" => {
            let wanted: Vec<&str> = q("id").split(',').collect();
            let mut list = fixture_json("youtube/videos.json");
            if let Some(items) = list["items"].as_array_mut() {
                items.retain(|v| wanted.contains(&v["id"].as_str().unwrap_or_default()));
            }
            Canned::json(200, list.to_string())
        }
        statuses if statuses == format!("/api/v1/accounts/{MASTODON_ID}/statuses") => {
            if q("exclude_reblogs") != "true" {
                return Canned::json(
                    400,
                    r#"{"error":"the fake serves only exclude_reblogs=true"}"#,
                );
            }
            let (page, next, prev) = match q("max_id") {
                "" => (
                    "mastodon/statuses-1.json",
                    "113550000000000004",
                    "113560000000000005",
                ),
                "113550000000000004" => (
                    "mastodon/statuses-2.json",
                    "113540000000000003",
                    "113540000000000003",
                ),
                "113540000000000003" => (
                    "mastodon/statuses-3.json",
                    "113480000000000001",
                    "113530000000000002",
                ),
                _ => return Canned::json(200, "[]"),
            };
            let url = format!("{base}{statuses}?exclude_reblogs=true&limit=40");
            Canned::fixture(200, page).header(
                "link",
                &format!(
                    "<{url}&max_id={next}>; rel=\"next\", <{url}&min_id={prev}>; rel=\"prev\""
                ),
            )
        }
        _ => Canned::json(404, r#"{"error":"Record not found"}"#),
    }
}
