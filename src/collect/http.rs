//! The HTTP side of collection, shared by the three networks: one reqwest client, and the
//! manners every request keeps.
//!
//! - a User-Agent naming metricord and its version, and a timeout on every request, body
//!   included, so a body that never ends cannot hang a poll;
//! - a cap on every body, read as a stream: a larger answer is dropped as soon as it passes the
//!   cap, never held whole;
//! - per host, a concurrency cap and a pace (requests a minute, spaced evenly), with nothing
//!   held across a request but that host's own permit, so one slow host delays no other;
//! - 429 and 503 honour `Retry-After` (seconds or an HTTP date; for 429 also the rate-limit reset
//!   headers Mastodon and Bluesky send) by pausing the whole host; a pause too long to hold a
//!   poll ends every poll of that host at once, saying when to come back; 5xx and network
//!   failures are retried with exponential backoff and jitter, a few times.
//!
//! Every wait is a tokio sleep, so tests run them instantly with paused time. URLs are never
//! logged or put in an error whole: the YouTube key travels in the query.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::{Cost, Error, Result};
use crate::clock::Clock;
use crate::settings::CollectSettings;

/// Sent with every request, so a platform's operators can see who is asking.
pub const USER_AGENT: &str = concat!("metricord/", env!("CARGO_PKG_VERSION"));
/// The largest answer read. A page of 100 Bluesky posts with their embeds is well under 1 MB.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Tries of one request before giving up on a host that fails or asks to wait.
pub const MAX_ATTEMPTS: u32 = 3;
/// A `Retry-After` longer than this ends the poll instead of holding it (the caller tries again
/// at its next interval).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// The first backoff after a failure; it doubles with each further try.
const BACKOFF: Duration = Duration::from_secs(1);

/// The one reqwest client every collector shares (its connection pool included).
pub fn client(settings: &CollectSettings) -> Result<reqwest::Client> {
    let timeout = settings
        .request_timeout
        .to_std()
        .unwrap_or(Duration::from_secs(30));
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| Error::Setup(e.without_url().to_string()))
}

/// `base` (a setting, with or without a trailing slash) joined with `path` and `query`.
pub fn endpoint(base: &str, path: &str, query: &[(&str, &str)]) -> Result<Url> {
    let mut url = Url::parse(&format!("{}/{path}", base.trim_end_matches('/')))
        .map_err(|e| Error::Setup(format!("the base URL \"{base}\" does not make a URL: {e}")))?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// `host` or `host:port`: what limits are kept per, and how errors name a server.
pub fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// An answer that was not retried: any 2xx, or a 4xx other than 429, for the network to read.
#[derive(Debug)]
pub struct Reply {
    pub host: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as `T`, or an error naming what did not fit (a missing field, a wrong type).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| self.malformed(e.to_string()))
    }

    pub fn malformed(&self, problem: impl Into<String>) -> Error {
        Error::Malformed {
            host: self.host.clone(),
            problem: problem.into(),
        }
    }
}

/// The requests of one network's collector: the shared client, and its own table of hosts, each
/// with the network's pace.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    hosts: Arc<Mutex<HashMap<String, Arc<Host>>>>,
    interval: Duration,
    connections: usize,
    clock: Clock,
}

/// One host's limits.
#[derive(Debug)]
struct Host {
    permits: Semaphore,
    /// When the next request may start: requests reserve slots `interval` apart.
    next: Mutex<Instant>,
    /// Until when the host asked everyone to wait (a 429 or 503), slots reserved before it
    /// asked included.
    paused: Mutex<Instant>,
}

impl Host {
    /// Waits for this request's slot, and for the end of any pause the host asked for. A pause
    /// longer than [`MAX_RETRY_AFTER`] is not waited out: what is left of it is the error.
    async fn pace(&self, interval: Duration) -> Result<(), Duration> {
        self.paused_too_long()?;
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let at = (*next).max(Instant::now());
            *next = at + interval;
            at
        };
        tokio::time::sleep_until(at).await;
        loop {
            self.paused_too_long()?;
            let until = *self.paused.lock().unwrap_or_else(|e| e.into_inner());
            if until <= Instant::now() {
                return Ok(());
            }
            tokio::time::sleep_until(until).await;
        }
    }

    fn paused_too_long(&self) -> Result<(), Duration> {
        let until = *self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let left = until.saturating_duration_since(Instant::now());
        if left > MAX_RETRY_AFTER {
            Err(left)
        } else {
            Ok(())
        }
    }

    /// Holds every request to this host back for `wait`.
    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        *paused = (*paused).max(until);
    }
}

/// Why one try failed.
enum Failure {
    /// Worth another try (network, timeout, broken body).
    Transient(String),
    /// Not worth another (an answer over the cap).
    Final(Error),
}

impl Http {
    /// `per_minute` requests a minute and `connections` at once to each host.
    pub fn new(client: reqwest::Client, per_minute: u32, connections: u32, clock: Clock) -> Http {
        Http {
            client,
            hosts: Arc::default(),
            interval: Duration::from_secs(60) / per_minute.max(1),
            connections: connections.max(1) as usize,
            clock,
        }
    }

    fn host(&self, key: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(key.to_string())
            .or_insert_with(|| {
                Arc::new(Host {
                    permits: Semaphore::new(self.connections),
                    next: Mutex::new(Instant::now()),
                    paused: Mutex::new(Instant::now()),
                })
            })
            .clone()
    }

    /// GETs `url` within its host's limits, retrying what is worth retrying. Each try is
    /// counted in `cost.requests`.
    pub async fn get(&self, url: &Url, cost: &mut Cost) -> Result<Reply> {
        let name = host_of(url);
        let host = self.host(&name);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = {
                // Only this host's permit is held across the request.
                let _permit = host
                    .permits
                    .acquire()
                    .await
                    .map_err(|_| Error::Unavailable {
                        host: name.clone(),
                        attempts: attempt,
                        problem: "the client is shutting down".to_string(),
                    })?;
                if let Err(left) = host.pace(self.interval).await {
                    let left = chrono::Duration::from_std(left).unwrap_or_default();
                    return Err(Error::RateLimited {
                        host: name,
                        until: self.clock.now() + left,
                    });
                }
                cost.requests += 1;
                self.send(url, &name).await
            };
            let last = attempt >= MAX_ATTEMPTS;
            let problem = match sent {
                Ok(reply)
                    if reply.status == StatusCode::TOO_MANY_REQUESTS
                        || reply.status == StatusCode::SERVICE_UNAVAILABLE =>
                {
                    let now = self.clock.now();
                    let asked = retry_after(&reply.headers, now).or_else(|| {
                        (reply.status == StatusCode::TOO_MANY_REQUESTS)
                            .then(|| rate_limit_reset(&reply.headers, now))
                            .flatten()
                    });
                    let wait = asked.unwrap_or_else(|| backoff(attempt));
                    // A server may ask for any wait; a week is as far as it is believed.
                    let wait = wait.min(Duration::from_secs(7 * 24 * 3600));
                    let until = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    if wait > MAX_RETRY_AFTER
                        || (last && reply.status == StatusCode::TOO_MANY_REQUESTS)
                    {
                        // Every poll of this host now ends at once, saying when to come back.
                        host.pause(wait);
                        return Err(Error::RateLimited { host: name, until });
                    }
                    if last {
                        return Err(unavailable(name, attempt, "HTTP 503"));
                    }
                    tracing::info!(host = %name, status = reply.status.as_u16(), wait_s = wait.as_secs_f64(), "asked to wait; pausing requests to this host");
                    host.pause(wait);
                    continue;
                }
                Ok(reply) if reply.status.is_server_error() => {
                    format!("HTTP {}", reply.status.as_u16())
                }
                Ok(reply) => return Ok(reply),
                Err(Failure::Final(err)) => return Err(err),
                Err(Failure::Transient(problem)) => problem,
            };
            if last {
                return Err(unavailable(name, attempt, &problem));
            }
            let wait = backoff(attempt);
            tracing::info!(host = %name, %problem, wait_s = wait.as_secs_f64(), "request failed; trying again");
            tokio::time::sleep(wait).await;
        }
    }

    /// One try: the answer with its body read up to the cap.
    async fn send(&self, url: &Url, host: &str) -> Result<Reply, Failure> {
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?;
        let too_large = || {
            Failure::Final(Error::TooLarge {
                host: host.to_string(),
                megabytes: MAX_BODY / (1024 * 1024),
            })
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > MAX_BODY as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(announced as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::Transient(describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Reply {
            host: host.to_string(),
            status: response.status(),
            headers: response.headers().clone(),
            body,
        })
    }
}

fn unavailable(host: String, attempts: u32, problem: &str) -> Error {
    Error::Unavailable {
        host,
        attempts,
        problem: problem.to_string(),
    }
}

/// A reqwest failure in words, without its URL.
fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "no answer within the request timeout".to_string()
    } else if err.is_connect() {
        "could not connect".to_string()
    } else if err.is_body() || err.is_decode() {
        "the answer broke off".to_string()
    } else {
        "the request failed".to_string()
    }
}

/// The wait before try `attempt + 1`: 1 s, 2 s, 4 s... each scaled by a random 50-100%, so
/// that many polls failing together do not come back together.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF * 2u32.pow(attempt.saturating_sub(1).min(10));
    base.mul_f64(0.5 + 0.5 * unit_random())
}

/// A random number in [0, 1). The standard library seeds every `RandomState` afresh, which is
/// all jitter needs.
fn unit_random() -> f64 {
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` as a wait: a number of seconds, or an HTTP date (a date in the past is no
/// wait).
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - now).to_std().unwrap_or_default())
}

/// The rate-limit reset some servers send with a 429 instead of `Retry-After`: Mastodon's
/// `X-RateLimit-Reset` (an ISO 8601 time), Bluesky's `RateLimit-Reset` (Unix seconds; small
/// numbers are read as seconds from now, as the IETF draft has it).
fn rate_limit_reset(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = ["x-ratelimit-reset", "ratelimit-reset"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())?
        .trim();
    let at = match value.parse::<i64>() {
        Ok(n) if n > 1_000_000_000 => DateTime::from_timestamp(n, 0)?,
        Ok(n) => return Some(Duration::from_secs(n.max(0) as u64)),
        Err(_) => DateTime::parse_from_rfc3339(value)
            .ok()?
            .with_timezone(&Utc),
    };
    Some((at - now).to_std().unwrap_or_default())
}

/// The `rel="next"` target of a `Link` header (RFC 8288), as Mastodon paginates.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|part| {
            let (target, params) = part.trim().split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let next = params.split(';').any(|param| {
                param.trim().split_once('=').is_some_and(|(key, value)| {
                    key.trim().eq_ignore_ascii_case("rel")
                        && value
                            .trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|rel| rel.eq_ignore_ascii_case("next"))
                })
            });
            next.then(|| target.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_as_an_http_date() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let seconds = headers(&[("retry-after", "120")]);
        assert_eq!(retry_after(&seconds, now), Some(Duration::from_secs(120)));
        let huge = headers(&[("retry-after", "18446744073709551615")]);
        assert_eq!(retry_after(&huge, now), Some(Duration::from_secs(u64::MAX)));
        let date = headers(&[("retry-after", "Tue, 01 Dec 2026 10:01:30 GMT")]);
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(90)));
        let past = headers(&[("retry-after", "Tue, 01 Dec 2026 09:00:00 GMT")]);
        assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    }

    #[test]
    fn rate_limit_resets_are_read_as_mastodon_and_bluesky_send_them() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let mastodon = headers(&[("x-ratelimit-reset", "2026-12-01T10:05:00.000Z")]);
        assert_eq!(
            rate_limit_reset(&mastodon, now),
            Some(Duration::from_secs(300))
        );
        let epoch = headers(&[("ratelimit-reset", &(now.timestamp() + 60).to_string())]);
        assert_eq!(rate_limit_reset(&epoch, now), Some(Duration::from_secs(60)));
        let delta = headers(&[("ratelimit-reset", "30")]);
        assert_eq!(rate_limit_reset(&delta, now), Some(Duration::from_secs(30)));
    }

    #[test]
    fn the_next_page_comes_from_the_link_header() {
        let link = headers(&[(
            "link",
            "<https://mastodon.example/api/v1/accounts/1/statuses?max_id=7>; rel=\"next\", <https://mastodon.example/api/v1/accounts/1/statuses?min_id=9>; rel=\"prev\"",
        )]);
        assert_eq!(
            next_link(&link).as_deref(),
            Some("https://mastodon.example/api/v1/accounts/1/statuses?max_id=7")
        );
        let prev_only = headers(&[("link", "<https://m.example/x?min_id=9>; rel=\"prev\"")]);
        assert_eq!(next_link(&prev_only), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
        assert_eq!(next_link(&headers(&[("link", "garbage")])), None);
    }

    #[test]
    fn backoff_doubles_and_jitters_within_half_to_whole() {
        for attempt in 1..=3 {
            let base = BACKOFF * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let wait = backoff(attempt);
                assert!(wait >= base / 2 && wait <= base, "{attempt}: {wait:?}");
            }
        }
    }

    #[test]
    fn endpoints_join_a_base_with_or_without_its_slash() {
        let a = endpoint("https://h.example/base/", "xrpc/m", &[("actor", "a b")]).unwrap();
        let b = endpoint("https://h.example/base", "xrpc/m", &[("actor", "a b")]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "https://h.example/base/xrpc/m?actor=a+b");
        assert_eq!(host_of(&a), "h.example");
        let local = Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert_eq!(host_of(&local), "127.0.0.1:8080");
    }
}
