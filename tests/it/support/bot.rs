//! metricord's Discord front end, in process, against the fake Discord: what the Discord and
//! reliability tests drive.

use std::sync::Arc;

use metricord::clock::Clock;
use metricord::discord::{self, Connection};
use metricord::dispatcher::Dispatcher;
use metricord::settings::{DatabaseSettings, Settings};
use metricord::storage::Store;
use secrecy::SecretString;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::TestDb;
use super::fake_discord::{FakeDiscord, InteractionBuilder, Recorded};

/// metricord's Discord front end running against a fake Discord, with its own database.
pub struct Bot {
    pub fake: FakeDiscord,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<metricord::error::Result<()>>,
}

impl Bot {
    pub async fn start() -> Bot {
        Bot::start_with(Vec::new()).await
    }

    /// A bot registering its commands in `guild_ids` rather than globally.
    pub async fn start_with(guild_ids: Vec<u64>) -> Bot {
        let fake = FakeDiscord::start().await;
        let db = TestDb::new();
        let settings = Settings {
            database: DatabaseSettings {
                url: db.url(),
                ..DatabaseSettings::default()
            },
            ..Settings::default()
        };
        let store = Store::open(&settings.database).await.expect("database");
        let dispatcher = Arc::new(
            Dispatcher::new(Arc::new(settings), store, Clock::System).expect("dispatcher"),
        );
        let connection = Connection {
            token: SecretString::new("fake-token".to_string()),
            api_proxy: Some(fake.base_url.clone()),
            guild_ids,
            shards: discord::shards::Plan::default(),
            scheduler_every: discord::SCHEDULER_EVERY,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(discord::run(connection, dispatcher, async {
            let _ = stopped.await;
        }));
        fake.wait_identified().await;
        Bot {
            fake,
            db,
            stop: Some(stop),
            task,
        }
    }

    /// Sends an interaction and returns the first answer Discord receives for it.
    pub async fn interact(&self, interaction: InteractionBuilder) -> Recorded {
        self.fake
            .dispatch("INTERACTION_CREATE", interaction.build())
            .await;
        let callback = format!(
            "/api/v10/interactions/{}/{}/callback",
            interaction.id(),
            interaction.token()
        );
        self.fake.wait_for_request(|r| r.path == callback).await
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = (&mut self.task).await.expect("the bot task ends");
        assert!(result.is_ok(), "{result:?}");
    }
}
