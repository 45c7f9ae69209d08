//! A fake Discord (REST API + gateway) for end-to-end tests of a real serenity 0.12.5 client.
//!
//! REST is served by axum on `base_url` (give it to `HttpBuilder::proxy` together with
//! `ratelimiter_disabled(true)`: serenity 0.12.5's ratelimiter ignores the proxy and would talk
//! to the real discord.com). `GET /gateway` points the client at the plain `ws://` gateway, which
//! speaks gateway v10 JSON in uncompressed text frames.
//!
//! ```ignore
//! let fake = FakeDiscord::start().await;
//! let http = HttpBuilder::new("fake-token").proxy(&fake.base_url).ratelimiter_disabled(true).build();
//! // ... start a serenity Client built with ClientBuilder::new_with_http(http, intents) ...
//! fake.wait_identified().await;
//! let cmd = interaction("ping").options(vec![opt("loud", true)]);
//! fake.dispatch("INTERACTION_CREATE", cmd.build()).await;
//! let reply = fake.wait_for_request(|r| r.path.contains(&cmd.token())).await;
//! ```
//!
//! Facts about serenity 0.12.5 this fake relies on (checked against its source):
//! - The gateway URL comes from `GET /gateway` (not `/gateway/bot`, which only
//!   `start_autosharded` uses); serenity appends `?v=10` (no `encoding`, no `compress`).
//! - `compress: true` in IDENTIFY means per-payload zlib; serenity accepts plain text frames too.
//! - `resume_gateway_url` from READY is never used: resumes reconnect to the `/gateway` URL.
//! - On a dropped socket the shard RESUMEs at once (it does not wait for HELLO); a re-IDENTIFY
//!   goes through the shard queuer, which waits 5 s between starts. Hence we accept RESUME.
//! - A dispatch whose `d` does not match serenity's model is NOT an error: the `Event` enum has
//!   an untagged `Unknown` fallback, so e.g. a malformed INTERACTION_CREATE never reaches
//!   `interaction_create`. Payload builders here are therefore checked against the model types.
//! - With the ratelimiter disabled, serenity never retries: a 429 or 5xx surfaces as
//!   `HttpError::UnsuccessfulRequest` to the caller.
//! - Each shard is a gateway connection of its own, identifying with `shard: [id, total]`; the
//!   shard queuer starts them 5 s apart (it ignores `max_concurrency`).
//!
//! Sharding as Discord does it: the fake is in the servers of [`FakeDiscord::set_guilds`] (by
//! default [`GUILD_ID`] alone); each shard's READY lists, and its GUILD_CREATEs send, only the
//! servers with `(guild_id >> 22) % total == shard`, and every event of a server goes to the
//! connection of its shard (events of no server to shard 0), whichever process holds it.

// Each test binary compiles this module separately and uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

pub const APP_ID: u64 = 1000;
pub const BOT_ID: u64 = 1000;
pub const GUILD_ID: u64 = 2000;
pub const CHANNEL_ID: u64 = 3000;
pub const USER_ID: u64 = 4000;
/// How long every `wait_*` helper waits before panicking.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// `retry_after` (seconds) announced by injected 429 answers.
pub const RETRY_AFTER_SECS: f64 = 0.1;
/// Permissions of the invoking member unless overridden (VIEW_CHANNEL, SEND_MESSAGES, ...).
pub const DEFAULT_PERMISSIONS: u64 = 104_324_673;
/// How long a message nonce stays unique for `enforce_nonce` ("the past few minutes").
pub const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);
const TIMESTAMP: &str = "2024-01-01T00:00:00.000000+00:00";

/// One REST request as seen by the fake.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Full path, e.g. `/api/v10/interactions/123/tok/callback` (no query string).
    pub path: String,
    pub query: String,
    /// JSON body, or `payload_json` of a multipart body; `Null` if absent.
    pub json: Value,
    /// Uploaded files as (filename, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// Status the fake answered with.
    pub status: u16,
    /// When the request arrived: how long the bot took to answer.
    pub at: Instant,
    /// The `Authorization` header (`Bot TOKEN`): which bot process sent the request.
    pub authorization: String,
}

/// Selects requests for fault injection. `&str` matches a path prefix, with or without `/api/v10`.
pub struct Matcher(Box<dyn Fn(&Recorded) -> bool + Send + Sync>);

impl Matcher {
    pub fn new(f: impl Fn(&Recorded) -> bool + Send + Sync + 'static) -> Self {
        Self(Box::new(f))
    }
}

impl From<&str> for Matcher {
    fn from(prefix: &str) -> Self {
        let prefix = prefix.to_string();
        Self::new(move |r| r.path.starts_with(&prefix) || api_path(&r.path).starts_with(&prefix))
    }
}

struct Fault {
    matcher: Matcher,
    status: u16,
    remaining: usize,
}

/// A message created by `POST /channels/{id}/messages`.
struct Posted {
    channel: u64,
    nonce: Value,
    at: Instant,
    request: Recorded,
    message: Value,
}

/// A gateway connection; dropping `tx` makes its task drop the socket.
struct Conn {
    id: u64,
    tx: mpsc::UnboundedSender<Value>,
    ready: bool,
    /// The shard it identified or resumed as, once it has.
    shard: Option<Shard>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shard {
    id: u64,
    total: u64,
}

impl Shard {
    /// The shard Discord sends a server's events to.
    fn of(guild_id: u64, total: u64) -> u64 {
        (guild_id >> 22) % total.max(1)
    }
}

/// A shard's session: what RESUME names, and the sequence number of its events.
struct Session {
    id: String,
    shard: Shard,
    seq: u64,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Recorded>,
    faults: Vec<Fault>,
    delay: Option<Duration>,
    posted: Vec<Posted>,
    /// While set, `POST /channels/{id}/messages` is recorded and never answered, as if the
    /// network ate it: no message is made.
    hold_posts: bool,
    /// Channels whose message posts fail, with the status to answer.
    forbidden: HashMap<u64, u16>,
    /// Files served under `/attachments/{id}/...`, as (content type, bytes) by attachment id.
    hosted: HashMap<String, (String, Vec<u8>)>,
    /// Gateway payloads received from the client, in order.
    frames: Vec<Value>,
    /// Open connections, oldest first.
    conns: Vec<Conn>,
    connections: u64,
    /// The latest session of each shard id.
    shard_sessions: HashMap<u64, Session>,
    /// The servers the bot is in; empty means [`GUILD_ID`] alone.
    guilds: Vec<u64>,
    /// What `GET /gateway/bot` recommends; 0 means 1.
    recommended_shards: u64,
    identifies: usize,
    resumes: usize,
    /// Number of READY/RESUMED sent, i.e. sessions that became usable.
    sessions: usize,
    sessions_at_drop: usize,
}

impl Inner {
    /// Sends a payload on the newest connection.
    fn send(&self, payload: Value) -> bool {
        self.conns
            .last()
            .is_some_and(|c| c.tx.send(payload).is_ok())
    }

    fn guilds(&self) -> Vec<u64> {
        if self.guilds.is_empty() {
            vec![GUILD_ID]
        } else {
            self.guilds.clone()
        }
    }

    /// Sends an op 0 event to the ready connection of the shard its server belongs to (shard 0
    /// for events of no server); `None` while that shard has no ready connection. The sequence
    /// number is assigned under the lock so that events stay ordered.
    fn dispatch(&mut self, event: &str, data: Value) -> Option<u64> {
        let guild = data["guild_id"]
            .as_str()
            .or_else(|| event.starts_with("GUILD_").then(|| data["id"].as_str())?)
            .and_then(|id| id.parse::<u64>().ok());
        let conn = self.conns.iter().position(|c| {
            c.ready
                && c.shard
                    .is_some_and(|s| s.id == guild.map_or(0, |g| Shard::of(g, s.total)))
        })?;
        Some(self.dispatch_on(conn, event, data))
    }

    /// Sends an op 0 event on connection number `conn` (an index into `conns`).
    fn dispatch_on(&mut self, conn: usize, event: &str, data: Value) -> u64 {
        let Some(shard) = self.conns[conn].shard else {
            return 0;
        };
        let session = self.shard_sessions.get_mut(&shard.id);
        let seq = session.map_or(0, |s| {
            s.seq += 1;
            s.seq
        });
        let _ = self.conns[conn]
            .tx
            .send(json!({"op": 0, "t": event, "s": seq, "d": data}));
        seq
    }

    /// Creates a message, or returns the earlier one if `enforce_nonce` finds its nonce;
    /// `Err(status)` for a forbidden channel.
    fn post_message(&mut self, channel: u64, rec: &Recorded) -> Result<Value, u16> {
        if let Some(&status) = self.forbidden.get(&channel) {
            return Err(status);
        }
        let nonce = &rec.json["nonce"];
        if rec.json["enforce_nonce"] == true && !nonce.is_null() {
            let earlier = self.posted.iter().find(|p| {
                p.channel == channel && p.nonce == *nonce && p.at.elapsed() < NONCE_WINDOW
            });
            if let Some(earlier) = earlier {
                return Ok(earlier.message.clone());
            }
        }
        let message = message_json(&channel.to_string(), &rec.json);
        self.posted.push(Posted {
            channel,
            nonce: nonce.clone(),
            at: Instant::now(),
            request: Recorded {
                status: 200,
                ..rec.clone()
            },
            message: message.clone(),
        });
        Ok(message)
    }
}

struct Shared {
    inner: Mutex<Inner>,
    /// Bumped after every state change so waiters re-check their condition.
    changed: watch::Sender<u64>,
    gateway_url: String,
    heartbeat_ms: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test predicate must not make every later call panic too.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let out = f(&mut self.lock());
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        out
    }
}

/// A running fake Discord. Dropping it stops the servers and closes the gateway.
pub struct FakeDiscord {
    /// `http://127.0.0.1:PORT`, for `HttpBuilder::proxy`.
    pub base_url: String,
    /// `ws://127.0.0.1:PORT`, as announced by `GET /gateway`.
    pub gateway_url: String,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    /// Dropped with the fake: tells axum to close keep-alive connections too, as they run in
    /// tasks of their own that aborting the server task does not reach.
    _rest_shutdown: oneshot::Sender<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        // The gateway connections live in a JoinSet owned by the accept task, so they go too.
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl FakeDiscord {
    /// Starts with a realistic 45 s heartbeat interval.
    pub async fn start() -> Self {
        Self::start_with_heartbeat(Duration::from_millis(45_000)).await
    }

    /// Starts with a custom heartbeat interval (short ones exercise HEARTBEAT_ACK handling).
    pub async fn start_with_heartbeat(interval: Duration) -> Self {
        let rest = TcpListener::bind("127.0.0.1:0").await.expect("bind REST");
        let gateway = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let base_url = format!("http://{}", rest.local_addr().expect("REST addr"));
        let gateway_url = format!("ws://{}", gateway.local_addr().expect("gateway addr"));
        let shared = Arc::new(Shared {
            inner: Mutex::default(),
            changed: watch::channel(0).0,
            gateway_url: gateway_url.clone(),
            heartbeat_ms: u64::try_from(interval.as_millis()).expect("heartbeat interval"),
        });
        let app = Router::new()
            .fallback(rest_handler)
            .layer(DefaultBodyLimit::disable()) // uploads may exceed axum's 2 MB default
            .with_state(Arc::clone(&shared));
        let (rest_shutdown, on_shutdown) = oneshot::channel::<()>();
        let stop = async move {
            let _ = on_shutdown.await;
        };
        let tasks = vec![
            tokio::spawn(async move {
                let server = axum::serve(rest, app).with_graceful_shutdown(stop);
                server.await.expect("REST server");
            }),
            tokio::spawn(accept_gateway(gateway, Arc::clone(&shared))),
        ];
        Self {
            base_url,
            gateway_url,
            shared,
            tasks,
            _rest_shutdown: rest_shutdown,
        }
    }

    /// Snapshot of all REST requests so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// Returns the first request (past or future) matching `pred`. Predicates of the `wait_*`
    /// helpers run under the fake's lock: they must not call the fake.
    pub async fn wait_for_request(&self, pred: impl Fn(&Recorded) -> bool) -> Recorded {
        self.wait_until("a matching REST request", |i| {
            i.requests.iter().find(|r| pred(r)).cloned()
        })
        .await
    }

    /// Answers the next `count` requests matched by `matcher` with `status` (429: Discord-style
    /// rate limit body and headers; 5xx: plain text; other: Discord-style JSON error).
    pub fn fail_next(&self, matcher: impl Into<Matcher>, status: u16, count: usize) {
        let fault = Fault {
            matcher: matcher.into(),
            status,
            remaining: count,
        };
        self.shared.update(|i| i.faults.push(fault));
    }

    /// While `hold` is set, channel message posts are recorded but never answered nor made.
    pub fn hold_channel_posts(&self, hold: bool) {
        self.shared.update(|i| i.hold_posts = hold);
    }

    /// The servers the bot is in, each sent to its own shard; set before the bot connects.
    pub fn set_guilds(&self, guilds: Vec<u64>) {
        self.shared.update(|i| i.guilds = guilds);
    }

    /// The shard count `GET /gateway/bot` recommends.
    pub fn set_recommended_shards(&self, shards: u64) {
        self.shared.update(|i| i.recommended_shards = shards);
    }

    /// Waits until every shard of `total` has a ready connection; returns each IDENTIFY's
    /// `(shard, token)` so far. Shards start 5 s apart in one process, hence the long bound.
    pub async fn wait_shards(&self, total: u64, bound: Duration) -> Vec<(u64, String)> {
        self.wait_up_to(bound, "a ready connection for every shard", |i| {
            let ready = (0..total).all(|shard| {
                i.conns
                    .iter()
                    .any(|c| c.ready && c.shard == Some(Shard { id: shard, total }))
            });
            ready.then(|| identified(i))
        })
        .await
    }

    /// Each IDENTIFY so far as `(shard id, token)`, the token without serenity's `Bot ` prefix.
    pub fn identified(&self) -> Vec<(u64, String)> {
        identified(&self.shared.lock())
    }

    /// Delays every REST answer (after recording the request).
    pub fn set_delay(&self, delay: Option<Duration>) {
        self.shared.update(|i| i.delay = delay);
    }

    /// The distinct messages created in `channel_id` by `POST /channels/{id}/messages`, as the
    /// requests that created them: nonce-deduplicated and failed posts are left out.
    pub fn channel_messages(&self, channel_id: u64) -> Vec<Recorded> {
        let i = self.shared.lock();
        let posted = i.posted.iter().filter(|p| p.channel == channel_id);
        posted.map(|p| p.request.clone()).collect()
    }

    /// From now on answers `POST /channels/{channel_id}/messages` with 403 `Missing Access`
    /// (50001) or 404 `Unknown Channel` (10003).
    pub fn forbid_channel(&self, channel_id: u64, status: u16) {
        assert!(
            matches!(status, 403 | 404),
            "forbid_channel: 403 or 404, not {status}"
        );
        self.shared
            .update(|i| i.forbidden.insert(channel_id, status));
    }

    /// Serves `bytes` at `{base_url}/attachments/{id}/{filename}` and returns a matching
    /// Attachment object, for [`InteractionBuilder::attachment`] or message payloads.
    pub fn host_file(&self, filename: &str, bytes: impl Into<Vec<u8>>) -> Value {
        let (id, bytes) = (next_id().to_string(), bytes.into());
        let extension = filename
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase());
        let content_type = match extension.as_deref() {
            Some("png") => "image/png",
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("txt") => "text/plain; charset=utf-8",
            Some("csv") => "text/csv; charset=utf-8",
            Some("json") => "application/json",
            _ => "application/octet-stream",
        };
        let url = format!("{}/attachments/{id}/{filename}", self.base_url);
        let attachment = json!({
            "id": id, "filename": filename, "size": bytes.len(), "url": url, "proxy_url": url,
            "content_type": content_type, "description": null, "height": null, "width": null,
            "ephemeral": true,
        });
        let file = (content_type.to_string(), bytes);
        self.shared.update(|i| i.hosted.insert(id, file));
        attachment
    }

    /// Gateway payloads received from the client so far (IDENTIFY, heartbeats, RESUME, ...).
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.shared.lock().frames.clone()
    }

    /// Returns the first `count` gateway payloads (past or future) matching `pred`,
    /// e.g. `wait_for_frames(3, |f| f["op"] == 1)` for three heartbeats.
    pub async fn wait_for_frames(&self, count: usize, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.wait_until("matching gateway payloads", |i| {
            let found: Vec<Value> = i
                .frames
                .iter()
                .filter(|f| pred(f))
                .take(count)
                .cloned()
                .collect();
            (found.len() == count).then_some(found)
        })
        .await
    }

    /// Waits until a client has identified and got READY; returns the IDENTIFY payload.
    pub async fn wait_identified(&self) -> Value {
        self.wait_until("IDENTIFY + READY", |i| {
            let identify = i.frames.iter().find(|f| f["op"] == 2)?;
            (i.sessions > 0).then(|| identify.clone())
        })
        .await
    }

    pub fn identify_count(&self) -> usize {
        self.shared.lock().identifies
    }

    pub fn resume_count(&self) -> usize {
        self.shared.lock().resumes
    }

    /// Sends an op 0 event once a session is ready (waits for one); returns its `s`.
    pub async fn dispatch(&self, event: &str, data: Value) -> u64 {
        self.wait_until("a ready gateway session of the event's shard", |i| {
            i.dispatch(event, data.clone())
        })
        .await
    }

    /// Sends an arbitrary payload (e.g. op 7 RECONNECT, op 9 INVALID_SESSION) on the current
    /// connection, waiting for one to exist.
    pub async fn send_raw(&self, payload: Value) {
        self.wait_until("a gateway connection", |i| {
            i.send(payload.clone()).then_some(())
        })
        .await;
    }

    /// Drops the ready gateway socket without a close frame (waits for one to exist).
    pub async fn drop_connection(&self) {
        self.wait_until("a ready gateway session to drop", |i| {
            let ready = i.conns.iter().position(|c| c.ready)?;
            i.conns.remove(ready); // drops the sender; the connection task then drops the socket
            i.sessions_at_drop = i.sessions;
            Some(())
        })
        .await;
    }

    /// Waits until the client has a usable session again (RESUMED or READY) after
    /// `drop_connection`.
    pub async fn wait_reconnected(&self) {
        self.wait_until("the client to reconnect (RESUME or IDENTIFY)", |i| {
            let ready = i.conns.iter().any(|c| c.ready);
            (ready && i.sessions > i.sessions_at_drop).then_some(())
        })
        .await;
    }

    /// Re-evaluates `check` after every state change until it yields a value; panics after
    /// `WAIT_TIMEOUT` with a summary of what the fake has seen.
    async fn wait_until<T>(&self, what: &str, check: impl FnMut(&mut Inner) -> Option<T>) -> T {
        self.wait_up_to(WAIT_TIMEOUT, what, check).await
    }

    /// [`Self::wait_until`] with a bound of its own.
    async fn wait_up_to<T>(
        &self,
        bound: Duration,
        what: &str,
        mut check: impl FnMut(&mut Inner) -> Option<T>,
    ) -> T {
        let mut changed = self.shared.changed.subscribe();
        let wait = async {
            loop {
                // The guard must be dropped before awaiting, hence the block.
                let found = {
                    let mut inner = self.shared.lock();
                    check(&mut inner)
                };
                if let Some(found) = found {
                    // `check` may have changed state (dispatch, drop_connection). Only notify
                    // on success: notifying on every check would wake this loop forever.
                    self.shared.changed.send_modify(|v| *v = v.wrapping_add(1));
                    return found;
                }
                changed.changed().await.expect("fake discord state dropped");
            }
        };
        match tokio::time::timeout(bound, wait).await {
            Ok(found) => found,
            Err(_) => {
                let i = self.shared.lock();
                let requests: Vec<_> = i
                    .requests
                    .iter()
                    .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
                    .collect();
                let ops: Vec<_> = i.frames.iter().map(|f| f["op"].clone()).collect();
                panic!(
                    "fake discord: timed out after {bound:?} waiting for {what}\n\
                     REST requests: {requests:#?}\ngateway ops received: {ops:?}"
                );
            }
        }
    }
}

fn identified(i: &Inner) -> Vec<(u64, String)> {
    let identifies = i.frames.iter().filter(|f| f["op"] == 2);
    identifies
        .map(|f| {
            let shard = f["d"]["shard"][0].as_u64().unwrap_or(0);
            let token = f["d"]["token"].as_str().unwrap_or_default();
            (shard, token.trim_start_matches("Bot ").to_string())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// REST

fn api_path(path: &str) -> &str {
    path.strip_prefix("/api/v10").unwrap_or(path)
}

async fn rest_handler(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (json, files) = if content_type.starts_with("multipart/form-data") {
        parse_multipart(content_type, &body)
    } else {
        (
            serde_json::from_slice(&body).unwrap_or(Value::Null),
            Vec::new(),
        )
    };
    let mut rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        json,
        files,
        status: 0,
        at: Instant::now(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
    };
    let (fault, delay, hold) = shared.update(|i| {
        let fault = i
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && (f.matcher.0)(&rec));
        let status = fault.map(|f| {
            f.remaining -= 1;
            f.status
        });
        i.faults.retain(|f| f.remaining > 0);
        let post = rec.method == "POST" && api_path(&rec.path).ends_with("/messages");
        let hold = i.hold_posts && post && api_path(&rec.path).starts_with("/channels/");
        (status, i.delay, hold)
    });
    if hold {
        shared.update(|i| i.requests.push(rec));
        return std::future::pending().await;
    }
    let response = match fault {
        Some(status) => fault_response(status),
        None => route(&shared, &rec),
    };
    rec.status = response.status().as_u16();
    // Recorded before the delay so tests can observe requests whose answer is still pending.
    shared.update(|i| i.requests.push(rec));
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

fn route(shared: &Shared, rec: &Recorded) -> Response {
    let segments: Vec<&str> = api_path(&rec.path).trim_matches('/').split('/').collect();
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    match (rec.method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => ok(json!({"url": shared.gateway_url})),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": shared.gateway_url,
            "shards": shared.lock().recommended_shards.max(1),
            "session_start_limit": {
                "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1
            },
        })),
        ("GET", ["oauth2", "applications", "@me"]) => ok(application_json()),
        ("GET", ["users", "@me"]) => ok(bot_user_json()),
        ("PUT", ["applications", _, "commands"]) => ok(echo_commands(&rec.json, None)),
        ("PUT", ["applications", _, "guilds", guild, "commands"]) => {
            ok(echo_commands(&rec.json, Some(guild)))
        }
        // Discord answers a plain callback with 204 and no body.
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) | ("POST", ["webhooks", _, _]) => {
            ok(message_json(&CHANNEL_ID.to_string(), &rec.json))
        }
        ("POST", ["channels", channel, "messages"]) => {
            match shared.update(|i| i.post_message(channel.parse().unwrap_or(0), rec)) {
                Ok(message) => ok(message),
                Err(status) => channel_error(status),
            }
        }
        ("GET", ["attachments", id, _]) => match shared.lock().hosted.get(*id) {
            Some((content_type, bytes)) => (
                [(header::CONTENT_TYPE, content_type.clone())],
                bytes.clone(),
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "404: Not Found", "code": 0})),
        )
            .into_response(),
    }
}

fn channel_error(status: u16) -> Response {
    let body = if status == 403 {
        json!({"message": "Missing Access", "code": 50001})
    } else {
        json!({"message": "Unknown Channel", "code": 10003})
    };
    let status = StatusCode::from_u16(status).expect("valid HTTP status");
    (status, axum::Json(body)).into_response()
}

fn fault_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).expect("valid HTTP status");
    if code == StatusCode::TOO_MANY_REQUESTS {
        let mut headers = HeaderMap::new();
        // Discord rounds the Retry-After header up to whole seconds; the body is precise.
        let retry_secs = RETRY_AFTER_SECS.ceil().to_string();
        let reset_after = RETRY_AFTER_SECS.to_string();
        for (name, value) in [
            ("retry-after", retry_secs.as_str()),
            ("x-ratelimit-limit", "1"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", reset_after.as_str()),
            ("x-ratelimit-bucket", "fake-bucket"),
            ("x-ratelimit-scope", "user"),
        ] {
            headers.insert(name, HeaderValue::from_str(value).expect("header value"));
        }
        let body = json!({
            "message": "You are being rate limited.",
            "retry_after": RETRY_AFTER_SECS,
            "global": false,
        });
        (code, headers, axum::Json(body)).into_response()
    } else if code.is_server_error() {
        (code, format!("fake discord: injected {status}")).into_response()
    } else {
        let body = json!({"message": format!("fake discord: injected {status}"), "code": 0});
        (code, axum::Json(body)).into_response()
    }
}

/// Minimal multipart/form-data parser: serenity sends `payload_json` plus `files[N]` parts.
fn parse_multipart(content_type: &str, body: &[u8]) -> (Value, Vec<(String, Vec<u8>)>) {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .unwrap_or_default();
    let delimiter = format!("--{boundary}");
    let mut json = Value::Null;
    let mut files = Vec::new();
    for part in split_bytes(body, delimiter.as_bytes()).into_iter().skip(1) {
        // Each part is "\r\n<headers>\r\n\r\n<content>\r\n"; the last one is "--\r\n".
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(header_end) = find_bytes(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..header_end]);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or_default();
        let content = &part[header_end + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let param = |key: &str| {
            disposition
                .split(';')
                .find_map(|p| p.trim().strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim_matches('"').to_string())
        };
        match (param("filename"), param("name")) {
            (Some(filename), _) => files.push((filename, content.to_vec())),
            (None, Some(name)) if name == "payload_json" => {
                json = serde_json::from_slice(content).unwrap_or(Value::Null);
            }
            _ => {}
        }
    }
    (json, files)
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut haystack: &'a [u8], needle: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find_bytes(haystack, needle) {
        parts.push(&haystack[..at]);
        haystack = &haystack[at + needle.len()..];
    }
    parts.push(haystack);
    parts
}

// ---------------------------------------------------------------------------------------------
// Gateway

async fn accept_gateway(listener: TcpListener, shared: Arc<Shared>) {
    // Owning the connection tasks here means aborting this task closes every socket.
    let mut connections = JoinSet::new();
    while let Ok((tcp, _)) = listener.accept().await {
        while connections.try_join_next().is_some() {}
        let (tx, rx) = mpsc::unbounded_channel();
        // Registered before the task runs, so frames from this socket always find their Conn.
        let id = shared.update(|i| {
            i.connections += 1;
            i.conns.push(Conn {
                id: i.connections,
                tx,
                ready: false,
                shard: None,
            });
            i.connections
        });
        connections.spawn(gateway_connection(tcp, id, rx, Arc::clone(&shared)));
    }
}

async fn gateway_connection(
    tcp: TcpStream,
    id: u64,
    mut rx: mpsc::UnboundedReceiver<Value>,
    shared: Arc<Shared>,
) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let hello =
        json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": shared.heartbeat_ms}});
    if ws.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(payload) => {
                    if ws.send(Message::Text(payload.to_string())).await.is_err() {
                        break;
                    }
                }
                // Conn removed (drop_connection or a newer connection): drop the socket
                // without a close frame, like a network failure.
                None => break,
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(payload) = serde_json::from_str(&text) {
                        shared.update(|i| on_client_payload(i, &shared, id, payload));
                    }
                }
                // tungstenite answers close frames itself; keep reading until the stream ends.
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    shared.update(|i| i.conns.retain(|c| c.id != id));
}

fn on_client_payload(i: &mut Inner, shared: &Shared, id: u64, payload: Value) {
    i.frames.push(payload.clone());
    let Some(at) = i.conns.iter().position(|c| c.id == id) else {
        return; // a stale socket; ignore it
    };
    match payload["op"].as_u64() {
        Some(1) => {
            let _ = i.conns[at]
                .tx
                .send(json!({"op": 11, "s": null, "t": null, "d": null}));
        }
        Some(2) => {
            let shard = Shard {
                id: payload["d"]["shard"][0].as_u64().unwrap_or(0),
                total: payload["d"]["shard"][1].as_u64().unwrap_or(1),
            };
            i.identifies += 1;
            let session = Session {
                id: format!("fake-session-{}", i.identifies),
                shard,
                seq: 0,
            };
            let session_id = session.id.clone();
            i.shard_sessions.insert(shard.id, session);
            let at = take_shard(i, at, shard);
            let guilds: Vec<u64> = i
                .guilds()
                .into_iter()
                .filter(|&g| Shard::of(g, shard.total) == shard.id)
                .collect();
            let unavailable: Vec<Value> = guilds
                .iter()
                .map(|g| json!({"id": g.to_string(), "unavailable": true}))
                .collect();
            let ready = json!({
                "v": 10,
                "user": bot_user_json(),
                "guilds": unavailable,
                "session_id": session_id,
                "resume_gateway_url": shared.gateway_url,
                "shard": payload["d"]["shard"],
                "application": {"id": APP_ID.to_string(), "flags": 0},
            });
            i.dispatch_on(at, "READY", ready);
            for guild in guilds {
                i.dispatch_on(at, "GUILD_CREATE", guild_json_for(guild));
            }
            mark_ready(i, at);
        }
        Some(6) => {
            let resumed = i
                .shard_sessions
                .values()
                .find(|s| payload["d"]["session_id"] == s.id.as_str())
                .map(|s| s.shard);
            match resumed {
                Some(shard) => {
                    i.resumes += 1;
                    let at = take_shard(i, at, shard);
                    i.dispatch_on(at, "RESUMED", json!({}));
                    mark_ready(i, at);
                }
                None => {
                    let _ = i.conns[at]
                        .tx
                        .send(json!({"op": 9, "s": null, "t": null, "d": false}));
                }
            }
        }
        _ => {}
    }
}

/// Makes connection `at` the one of `shard`, closing any older connection of that shard as
/// Discord does; returns where connection `at` now is.
fn take_shard(i: &mut Inner, at: usize, shard: Shard) -> usize {
    let id = i.conns[at].id;
    i.conns[at].shard = Some(shard);
    i.conns
        .retain(|c| c.id == id || c.shard.is_none_or(|s| s.id != shard.id));
    i.conns.iter().position(|c| c.id == id).unwrap_or(0)
}

fn mark_ready(i: &mut Inner, at: usize) {
    if let Some(conn) = i.conns.get_mut(at) {
        conn.ready = true;
    }
    i.sessions += 1;
}

// ---------------------------------------------------------------------------------------------
// Payloads (each checked against serenity 0.12.5's model; see the demo test)

static NEXT_ID: AtomicU64 = AtomicU64::new(10_000_000);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// Stable id for a command name, shared by the registration echo and the interaction builder.
pub fn command_id(name: &str) -> u64 {
    // FNV-1a, folded into a range that can never collide with the fixed ids above.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    5_000_000_000 + hash % 1_000_000_000
}

pub fn user_json(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(), "username": name, "discriminator": "0", "global_name": null,
        "avatar": null, "bot": bot, "public_flags": 0,
    })
}

fn bot_user_json() -> Value {
    let mut user = user_json(BOT_ID, "metricord-test", true);
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user
}

fn application_json() -> Value {
    json!({
        "id": APP_ID.to_string(), "name": "metricord-test", "icon": null, "description": "",
        "bot_public": false, "bot_require_code_grant": false, "verify_key": "00",
        "owner": user_json(USER_ID, "owner", false), "team": null, "flags": 0,
        "bot": bot_user_json(),
    })
}

/// Bulk-overwrite answer: the submitted commands with the fields Discord adds.
fn echo_commands(body: &Value, guild: Option<&str>) -> Value {
    let commands = body.as_array().cloned().unwrap_or_default();
    let commands = commands.into_iter().map(|mut c| {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        c["id"] = json!(command_id(&name).to_string());
        c["application_id"] = json!(APP_ID.to_string());
        c["version"] = json!(next_id().to_string());
        c["guild_id"] = json!(guild);
        if c.get("type").is_none() {
            c["type"] = json!(1);
        }
        if c.get("description").is_none() {
            c["description"] = json!(""); // context-menu commands have none
        }
        c
    });
    Value::Array(commands.collect())
}

/// A Message as Discord returns it; only `content` is taken from the request (the request
/// itself is recorded for assertions).
fn message_json(channel_id: &str, body: &Value) -> Value {
    json!({
        "id": next_id().to_string(), "channel_id": channel_id,
        "author": bot_user_json(), "content": body["content"].as_str().unwrap_or_default(),
        "timestamp": TIMESTAMP, "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 0, "flags": body["flags"].as_u64().unwrap_or(0),
        "application_id": APP_ID.to_string(), "webhook_id": null, "nonce": body["nonce"],
    })
}

/// GUILD_CREATE data for the test guild: one text channel, the @everyone role, the tester.
pub fn guild_json() -> Value {
    guild_json_for(GUILD_ID)
}

/// The text channel of a server: [`CHANNEL_ID`] in [`GUILD_ID`], the server's id + 1 elsewhere.
pub fn channel_of(guild_id: u64) -> u64 {
    if guild_id == GUILD_ID {
        CHANNEL_ID
    } else {
        guild_id + 1
    }
}

/// GUILD_CREATE data for a server: one text channel ([`channel_of`]), the @everyone role, the
/// tester.
pub fn guild_json_for(guild_id: u64) -> Value {
    let role = |id: u64, name: &str| {
        json!({
            "id": id.to_string(), "name": name, "color": 0, "colors": {"primary_color": 0},
            "hoist": false, "managed": false, "mentionable": false, "position": 0,
            "permissions": DEFAULT_PERMISSIONS.to_string(), "icon": null, "unicode_emoji": null,
            "flags": 0,
        })
    };
    // Split in two: one json! this size exceeds the default macro recursion limit.
    let mut guild = json!({
        "id": guild_id.to_string(), "name": "Test Guild", "icon": null, "icon_hash": null,
        "splash": null, "discovery_splash": null, "owner_id": USER_ID.to_string(),
        "afk_channel_id": null, "afk_timeout": 300, "verification_level": 0,
        "default_message_notifications": 0, "explicit_content_filter": 0,
        "roles": [role(guild_id, "@everyone")], "emojis": [], "features": [], "mfa_level": 0,
        "application_id": null, "system_channel_id": null, "system_channel_flags": 0,
        "rules_channel_id": null, "vanity_url_code": null, "description": null,
        "banner": null, "premium_tier": 0, "preferred_locale": "en-US",
        "public_updates_channel_id": null, "nsfw_level": 0, "stickers": [],
        "premium_progress_bar_enabled": false,
    });
    // Fields only present in GUILD_CREATE.
    let create_fields = json!({
        "joined_at": TIMESTAMP, "large": false, "unavailable": false, "member_count": 2,
        "voice_states": [], "members": [member_json(USER_ID, &[], DEFAULT_PERMISSIONS)],
        "channels": [{
            "id": channel_of(guild_id).to_string(), "type": 0, "guild_id": guild_id.to_string(),
            "name": "general", "position": 0, "permission_overwrites": [], "topic": null,
            "nsfw": false, "last_message_id": null, "parent_id": null,
            "rate_limit_per_user": 0, "flags": 0,
        }],
        "threads": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
        "safety_alerts_channel_id": null,
    });
    if let (Some(guild), Value::Object(extra)) = (guild.as_object_mut(), create_fields) {
        guild.extend(extra);
    }
    guild
}

fn member_json(user_id: u64, roles: &[u64], permissions: u64) -> Value {
    json!({
        "user": user_json(user_id, "tester", false), "nick": null, "avatar": null,
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": TIMESTAMP, "premium_since": null, "deaf": false, "mute": false,
        "flags": 0, "pending": false, "permissions": permissions.to_string(),
        "communication_disabled_until": null,
    })
}

/// A command option; the Discord option type is inferred from the JSON value
/// (string 3, integer 4, boolean 5, float 10). Use [`typed_opt`] for users, channels, roles.
pub fn opt(name: &str, value: impl Into<Value>) -> Value {
    let value = value.into();
    let kind = match &value {
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_f64() => 10,
        Value::Number(_) => 4,
        _ => 3,
    };
    typed_opt(name, kind, value)
}

/// A command option with an explicit type (6 user, 7 channel, 8 role, 9 mentionable, 11
/// attachment: pass the id as a string).
pub fn typed_opt(name: &str, kind: u8, value: impl Into<Value>) -> Value {
    json!({"name": name, "type": kind, "value": value.into()})
}

/// A subcommand (type 1) with its options.
pub fn sub(name: &str, options: Vec<Value>) -> Value {
    json!({"name": name, "type": 1, "options": options})
}

/// A subcommand group (type 2) containing subcommands.
pub fn group(name: &str, subcommands: Vec<Value>) -> Value {
    json!({"name": name, "type": 2, "options": subcommands})
}

/// The focused option of an autocomplete interaction: what the user has typed so far.
/// serenity requires the value to be a string whatever the option type.
pub fn focused(name: &str, partial: &str) -> Value {
    json!({"name": name, "type": 3, "value": partial, "focused": true})
}

/// Builder for INTERACTION_CREATE payloads (see [`interaction`], [`autocomplete`]).
#[derive(Clone, Debug)]
pub struct InteractionBuilder {
    kind: u8,
    name: String,
    id: u64,
    options: Vec<Value>,
    guild_id: Option<u64>,
    channel_id: u64,
    user_id: u64,
    roles: Vec<u64>,
    permissions: u64,
    locale: String,
    /// (option name, Attachment object), added to the options and `resolved` by `build`.
    attachments: Vec<(String, Value)>,
}

/// An application command interaction (type 2) for the slash command `name`, invoked by
/// `USER_ID` in `CHANNEL_ID` of `GUILD_ID`. Each builder gets a unique id and token.
pub fn interaction(name: &str) -> InteractionBuilder {
    InteractionBuilder {
        kind: 2,
        name: name.to_string(),
        id: next_id(),
        options: Vec::new(),
        guild_id: Some(GUILD_ID),
        channel_id: CHANNEL_ID,
        user_id: USER_ID,
        roles: Vec::new(),
        permissions: DEFAULT_PERMISSIONS,
        locale: "en-US".to_string(),
        attachments: Vec::new(),
    }
}

/// An autocomplete interaction (type 4); put a [`focused`] option among the options.
pub fn autocomplete(name: &str) -> InteractionBuilder {
    InteractionBuilder {
        kind: 4,
        ..interaction(name)
    }
}

impl InteractionBuilder {
    pub fn options(mut self, options: Vec<Value>) -> Self {
        self.options = options;
        self
    }

    /// An attachment option (type 11) for a file from [`FakeDiscord::host_file`]. Added at
    /// build time, after any [`options`](Self::options), to the innermost subcommand if any.
    pub fn attachment(mut self, option_name: &str, attachment: Value) -> Self {
        self.attachments.push((option_name.to_string(), attachment));
        self
    }

    pub fn user(mut self, user_id: u64) -> Self {
        self.user_id = user_id;
        self
    }

    pub fn roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    /// The member's permissions in the channel (bitfield).
    pub fn permissions(mut self, permissions: u64) -> Self {
        self.permissions = permissions;
        self
    }

    pub fn channel(mut self, channel_id: u64) -> Self {
        self.channel_id = channel_id;
        self
    }

    /// `None` makes it a DM interaction (`user` instead of `member`).
    pub fn guild(mut self, guild_id: Option<u64>) -> Self {
        self.guild_id = guild_id;
        self
    }

    pub fn locale(mut self, locale: &str) -> Self {
        self.locale = locale.to_string();
        self
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The interaction token; responses hit `/interactions/{id}/{token}/callback` and
    /// `/webhooks/{app}/{token}...`.
    pub fn token(&self) -> String {
        format!("fake-token-{}", self.id)
    }

    pub fn build(&self) -> Value {
        let mut v = json!({
            "id": self.id.to_string(), "application_id": APP_ID.to_string(), "type": self.kind,
            "token": self.token(), "version": 1, "channel_id": self.channel_id.to_string(),
            "channel": {"id": self.channel_id.to_string(), "type": 0, "name": "general"},
            "app_permissions": DEFAULT_PERMISSIONS.to_string(),
            "locale": self.locale, "entitlements": [], "attachment_size_limit": 26_214_400,
            "data": {
                "id": command_id(&self.name).to_string(), "name": self.name, "type": 1,
                "options": self.options,
            },
        });
        for (name, attachment) in &self.attachments {
            let id = attachment["id"]
                .as_str()
                .expect("attachment from host_file");
            let options = innermost_options(&mut v["data"]["options"]);
            options.push(typed_opt(name, 11, id));
            v["data"]["resolved"]["attachments"][id] = attachment.clone();
        }
        if let Some(guild_id) = self.guild_id {
            v["guild_id"] = json!(guild_id.to_string());
            v["guild_locale"] = json!("en-US");
            v["member"] = member_json(self.user_id, &self.roles, self.permissions);
            v["authorizing_integration_owners"] = json!({"0": guild_id.to_string()});
            v["context"] = json!(0);
        } else {
            v["user"] = user_json(self.user_id, "tester", false);
            v["channel"]["type"] = json!(1);
            v["authorizing_integration_owners"] = json!({"1": self.user_id.to_string()});
            v["context"] = json!(1);
        }
        v
    }
}

/// The options of the innermost subcommand (group) in `options`, or `options` itself.
fn innermost_options(options: &mut Value) -> &mut Vec<Value> {
    let nested = options.as_array().and_then(|o| {
        o.iter()
            .position(|o| matches!(o["type"].as_u64(), Some(1 | 2)))
    });
    match nested {
        Some(at) => innermost_options(&mut options[at]["options"]),
        None => {
            if options.is_null() {
                *options = json!([]);
            }
            options.as_array_mut().expect("options array")
        }
    }
}
