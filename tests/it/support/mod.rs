//! What the integration tests share: a database of their own for each test, and the built binary.

#![allow(dead_code)] // each test file uses its own part of this module

pub mod bot;
pub mod fake_discord;
pub mod fake_platforms;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use metricord::settings::DatabaseSettings;
use metricord::storage::Store;

/// A fresh database in a folder that is removed when the test ends.
pub struct TestDb {
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub fn new() -> TestDb {
        TestDb {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("metricord.db")
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path().display())
    }

    pub async fn store(&self) -> Store {
        Store::open(&DatabaseSettings {
            url: self.url(),
            ..DatabaseSettings::default()
        })
        .await
        .expect("the test database opens")
    }

    /// Every value stored for a guild: `(day, brand, platform, series, value)`.
    pub async fn stored(&self, guild_id: u64) -> Vec<(String, String, String, String, i64)> {
        self.store()
            .await
            .snapshots(guild_id, None, None)
            .await
            .expect("the test database reads")
    }

    /// Pipes `input` into `metricord console` on this database; returns what it printed and its
    /// exit status.
    pub fn console(&self, args: &[&str], input: &str) -> (String, String, i32) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_metricord"))
            .arg("--database")
            .arg(self.url())
            .arg("console")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("metricord starts");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("the console reads its input");
        let output = child.wait_with_output().expect("metricord ends");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.status.code().unwrap_or(-1),
        )
    }
}
