//! `metricord bench --collect`: one round of polls of many tracked accounts, all at once, against
//! local fake platforms ([`super::platforms`]) that answer every request after a fixed latency,
//! through the real collectors with the real per-host limits from the settings.
//!
//! Two fifths of the accounts are on Bluesky (one AppView, as in production), two fifths on
//! Mastodon (ten accounts an instance), the rest on YouTube. Every poll's answer is checked
//! (followers, posts of the week, their likes, the requests it took), and every host's arrivals
//! are checked against its pace, so a wrong answer or a broken limit fails the run; the times
//! are only reported.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::SecretString;

use super::platforms::{self, Plays, Site};
use super::{check, failed, resident_kib};
use crate::clock::Clock;
use crate::collect::{Account, Bluesky, Collector, Mastodon, Network, YouTube, http};
use crate::error::Result;
use crate::numbers::thousands;
use crate::settings::Settings;

/// How much to measure.
#[derive(Debug, Clone)]
pub struct CollectPlan {
    pub accounts: usize,
    /// How long the fake platforms take to answer each request.
    pub latency: Duration,
}

/// Mastodon accounts on one fake instance.
const PER_INSTANCE: usize = 10;
/// The window the pace is checked over.
const WINDOW: Duration = Duration::from_secs(10);

/// Requests one poll takes when nothing fails: Bluesky's profile and one page of its feed,
/// Mastodon's lookup and one page of statuses, YouTube's channel, one page of uploads and one
/// call for the videos' counts.
fn requests_per_poll(network: Network) -> u32 {
    match network {
        Network::Bluesky | Network::Mastodon => 2,
        Network::YouTube => 3,
    }
}

fn parse(network: Network, text: &str) -> Result<Account> {
    Account::parse(network, text).map_err(|e| failed(&e.to_string()))
}

fn mb(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_string(), |k| {
        format!("{:.1} MB", k as f64 / 1024.0)
    })
}

pub async fn run(settings: &Settings, plan: &CollectPlan) -> Result<String> {
    let now = Utc::now();
    let bluesky_n = plan.accounts * 2 / 5;
    let mastodon_n = plan.accounts * 2 / 5;
    let youtube_n = plan.accounts - bluesky_n - mastodon_n;
    let instances = mastodon_n.div_ceil(PER_INSTANCE);

    let bluesky_site = Site::start(Plays::Bluesky, plan.latency, now).await?;
    let youtube_site = Site::start(Plays::YouTube, plan.latency, now).await?;
    let mut mastodon_sites = Vec::with_capacity(instances);
    for _ in 0..instances {
        mastodon_sites.push(Site::start(Plays::Mastodon, plan.latency, now).await?);
    }
    let instance = |i: usize| format!("m{}.bench.example", i % instances.max(1));
    let urls: HashMap<String, String> = mastodon_sites
        .iter()
        .enumerate()
        .map(|(k, site)| (instance(k), site.url.clone()))
        .collect();

    let mut collect = settings.collect.clone();
    collect.bluesky_url = bluesky_site.url.clone();
    collect.youtube_url = format!("{}/youtube/v3", youtube_site.url);
    collect.youtube_api_key = SecretString::new(platforms::KEY.to_string());
    let client = http::client(&collect).map_err(|e| failed(&e.to_string()))?;
    let bluesky: Arc<dyn Collector> =
        Arc::new(Bluesky::new(client.clone(), &collect, Clock::System));
    let mastodon: Arc<dyn Collector> = Arc::new(
        Mastodon::new(client.clone(), &collect, Clock::System)
            .with_instance_url(move |name| urls.get(name).cloned().unwrap_or_default()),
    );
    let youtube: Arc<dyn Collector> = Arc::new(YouTube::new(client, &collect, Clock::System));

    let mut tracked = Vec::with_capacity(plan.accounts);
    for i in 0..bluesky_n {
        tracked.push((
            i,
            parse(Network::Bluesky, &platforms::did(i))?,
            bluesky.clone(),
        ));
    }
    for i in 0..mastodon_n {
        let name = format!("bench{i}@{}", instance(i));
        tracked.push((i, parse(Network::Mastodon, &name)?, mastodon.clone()));
    }
    for i in 0..youtube_n {
        let channel = platforms::channel(i);
        tracked.push((i, parse(Network::YouTube, &channel)?, youtube.clone()));
    }
    let settled = resident_kib("VmRSS");

    let since = now - chrono::Duration::days(7);
    let started = Instant::now();
    let mut polls = tokio::task::JoinSet::new();
    for (i, account, collector) in tracked {
        polls.spawn(async move { (i, collector.poll(&account, since).await, account) });
    }
    let mut requests = 0;
    let mut posts = 0;
    while let Some(done) = polls.join_next().await {
        let (i, poll, account) = done.map_err(|e| failed(&e.to_string()))?;
        let poll = poll.map_err(|e| failed(&format!("polling {account}: {e}")))?;
        let network = account.network();
        let what = format!("the poll of {account}");
        check(poll.followers == Some(platforms::followers(i)), &what)?;
        check(
            poll.posts.len() == platforms::posts(i) && poll.complete,
            &what,
        )?;
        let likes: u64 = (0..platforms::posts(i)).map(platforms::likes).sum();
        check(
            poll.posts.iter().filter_map(|p| p.applause).sum::<u64>() == likes,
            &what,
        )?;
        check(poll.cost.requests == requests_per_poll(network), &what)?;
        requests += poll.cost.requests as usize;
        posts += poll.posts.len();
    }
    let wall = started.elapsed();
    let peak = resident_kib("VmHWM");

    // Each host's pace: the least time its requests need, and the most that arrived in any
    // window, against what its limit allows there.
    let mut least = (Duration::ZERO, "");
    let mut busiest = (0, 0, "");
    let sites = [(&bluesky_site, collect.bluesky_per_minute, "Bluesky")]
        .into_iter()
        .chain(
            mastodon_sites
                .iter()
                .map(|s| (s, collect.mastodon_per_minute, "a Mastodon instance")),
        )
        .chain([(&youtube_site, collect.youtube_per_minute, "YouTube")]);
    for (site, per_minute, name) in sites {
        let interval = Duration::from_secs(60) / per_minute;
        let mut arrivals = site.arrivals();
        arrivals.sort();
        let need = interval * arrivals.len().saturating_sub(1) as u32;
        if need > least.0 {
            least = (need, name);
        }
        let allowed = (WINDOW.as_nanos() / interval.as_nanos()) as usize + 1;
        let peak_in_window = (0..arrivals.len())
            .map(|k| {
                arrivals[k..]
                    .iter()
                    .take_while(|at| **at - arrivals[k] < WINDOW)
                    .count()
            })
            .max()
            .unwrap_or(0);
        // One more than the pace allows can arrive when an earlier request was sent late.
        check(
            peak_in_window <= allowed + 1,
            &format!("{name}: {peak_in_window} requests in {WINDOW:?}, {allowed} allowed"),
        )?;
        if peak_in_window * busiest.1.max(1) > busiest.0 * allowed.max(1) {
            busiest = (peak_in_window, allowed, name);
        }
    }
    let expected: usize = [
        (Network::Bluesky, bluesky_n),
        (Network::Mastodon, mastodon_n),
        (Network::YouTube, youtube_n),
    ]
    .iter()
    .map(|(network, n)| requests_per_poll(*network) as usize * n)
    .sum();
    check(requests == expected, "the number of requests")?;

    let mut out = String::new();
    writeln!(
        out,
        "Collection: {} accounts ({bluesky_n} on Bluesky's one AppView, {mastodon_n} on {instances} Mastodon instance{}, {youtube_n} on YouTube), every request answered after {} ms, a week of posts each ({} posts), polled all at once with the per-host limits of the settings ({}/min Bluesky, {}/min each Mastodon instance, {}/min YouTube).\n",
        thousands(plan.accounts as i64),
        if instances == 1 { "" } else { "s" },
        plan.latency.as_millis(),
        thousands(posts as i64),
        collect.bluesky_per_minute,
        collect.mastodon_per_minute,
        collect.youtube_per_minute,
    )
    .ok();
    writeln!(
        out,
        "| work | wall time | requests | requests/s | least time the limits allow | busiest host in any 10 s | resident memory settled / peak | target |\n|---|---|---|---|---|---|---|---|"
    )
    .ok();
    writeln!(
        out,
        "| one round of polls of every account | {:.1} s | {} | {:.1}/s | {:.1} s ({}) | {} requests, {} allowed ({}) | {} / {} | peak < 60 MB |",
        wall.as_secs_f64(),
        thousands(requests as i64),
        requests as f64 / wall.as_secs_f64(),
        least.0.as_secs_f64(),
        least.1,
        busiest.0,
        busiest.1,
        busiest.2,
        mb(settled),
        mb(peak),
    )
    .ok();
    Ok(out)
}
