//! The handler's visible effect, for the crash and outage checks: each invocation
//! upserts a row keyed by the event id and increments its counter, so the checker can
//! tell events never handled (no row), handled once (1) and handled again after a crash
//! (more than 1: at-least-once delivery re-running a handler whose success was not yet
//! recorded).
//!
//! The table lives in its own SQLite file beside a SQLite store (WAL,
//! `synchronous=NORMAL`: a commit survives the process being killed, which is what the
//! test does, though not a power cut), or in the PostgreSQL store's schema
//! (`loadgen_effects`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use callhook::event_log::EventDetail;
use callhook::worker::HandlerError;

/// Where the effects are written.
#[derive(Clone)]
pub enum Effects {
    /// A SQLite file.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A table in a PostgreSQL schema.
    Postgres(Arc<PgEffects>),
}

/// A lazily (re)connected PostgreSQL client for the effects table.
pub struct PgEffects {
    config: tokio_postgres::Config,
    client: tokio::sync::Mutex<Option<Arc<tokio_postgres::Client>>>,
}

const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS effects (
    event_id INTEGER PRIMARY KEY, provider TEXT NOT NULL, dedupe_key TEXT NOT NULL, count INTEGER NOT NULL)";
const PG_TABLE: &str = "CREATE TABLE IF NOT EXISTS loadgen_effects (
    event_id BIGINT PRIMARY KEY, provider TEXT NOT NULL, dedupe_key TEXT NOT NULL, count INTEGER NOT NULL)";

fn open_sqlite(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SQLITE_TABLE)?;
    Ok(conn)
}

/// A PostgreSQL config for `url` whose `search_path` is `schema`.
pub fn pg_config(url: &str, schema: &str) -> Result<tokio_postgres::Config, String> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
    config.options(format!("-c search_path={schema}"));
    Ok(config)
}

async fn pg_connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        // Ends when the server goes away; the next effect reconnects.
        let _ = connection.await;
    });
    Ok(client)
}

impl Effects {
    /// The effects file at `path` (created if absent).
    pub fn sqlite(path: &Path) -> Result<Self, String> {
        let conn = open_sqlite(path).map_err(|e| format!("effects file {}: {e}", path.display()))?;
        Ok(Self::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// The effects table in `schema` of the database at `url` (created if absent).
    pub async fn postgres(url: &str, schema: &str) -> Result<Self, String> {
        let config = pg_config(url, schema)?;
        let client = pg_connect(&config).await.map_err(|e| format!("effects: {e}"))?;
        client.batch_execute(PG_TABLE).await.map_err(|e| format!("effects table: {e}"))?;
        Ok(Self::Postgres(Arc::new(PgEffects { config, client: tokio::sync::Mutex::new(Some(Arc::new(client))) })))
    }

    /// Records one handler invocation for `detail`'s event.
    pub async fn record(&self, detail: &EventDetail) -> Result<(), HandlerError> {
        let (id, provider, key) =
            (detail.event.id.0, detail.event.provider.to_string(), detail.event.dedupe_key.clone());
        match self {
            Effects::Sqlite(conn) => {
                let conn = conn.clone();
                tokio::task::spawn_blocking(move || {
                    let conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    conn.prepare_cached(
                        "INSERT INTO effects (event_id, provider, dedupe_key, count) VALUES (?1, ?2, ?3, 1)
                         ON CONFLICT (event_id) DO UPDATE SET count = count + 1",
                    )?
                    .execute(rusqlite::params![id, provider, key])?;
                    Ok::<_, rusqlite::Error>(())
                })
                .await??;
                Ok(())
            }
            Effects::Postgres(pg) => {
                let client = pg.client().await?;
                let result = client
                    .execute(
                        "INSERT INTO loadgen_effects (event_id, provider, dedupe_key, count) VALUES ($1, $2, $3, 1)
                         ON CONFLICT (event_id) DO UPDATE SET count = loadgen_effects.count + 1",
                        &[&id, &provider, &key],
                    )
                    .await;
                if result.is_err() && client.is_closed() {
                    pg.client.lock().await.take();
                }
                result?;
                Ok(())
            }
        }
    }
}

impl PgEffects {
    async fn client(&self) -> Result<Arc<tokio_postgres::Client>, HandlerError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref().filter(|client| !client.is_closed()) {
            return Ok(client.clone());
        }
        let client = Arc::new(pg_connect(&self.config).await?);
        *slot = Some(client.clone());
        Ok(client)
    }
}

/// Where the checker reads the effects from.
#[derive(Clone, Debug)]
pub enum EffectsSource {
    /// A SQLite effects file.
    Sqlite(PathBuf),
    /// The `loadgen_effects` table of a PostgreSQL schema.
    Postgres {
        /// The server's URL.
        url: String,
        /// The schema.
        schema: String,
    },
}

impl EffectsSource {
    /// Every effect row: event id to invocation count.
    pub async fn read(&self) -> Result<HashMap<i64, i64>, String> {
        match self {
            EffectsSource::Sqlite(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || {
                    let conn = open_sqlite(&path)?;
                    let mut statement = conn.prepare("SELECT event_id, count FROM effects")?;
                    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
                    rows.collect::<rusqlite::Result<HashMap<i64, i64>>>()
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("reading effects: {e}"))
            }
            EffectsSource::Postgres { url, schema } => {
                let client = pg_connect(&pg_config(url, schema)?).await.map_err(|e| e.to_string())?;
                client.batch_execute(PG_TABLE).await.map_err(|e| e.to_string())?;
                let rows = client
                    .query("SELECT event_id, count::BIGINT FROM loadgen_effects", &[])
                    .await
                    .map_err(|e| format!("reading effects: {e}"))?;
                Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
            }
        }
    }
}
