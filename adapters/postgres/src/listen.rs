//! Waking workers in every process when jobs become due: `LISTEN`/`NOTIFY`.
//!
//! A transaction that adds claimable jobs (jobs not leased to their own process, or a
//! retry's new time) sends `NOTIFY callhook_jobs` with its schema as the payload; each
//! store keeps one connection outside its pool listening on that channel and wakes its
//! workers when a notification for its own schema arrives. Receivers sharing a
//! database then pick up each other's overflow at once instead of at their next poll.
//!
//! A wake-up is only a hint: workers still poll (their idle poll), so a notification
//! lost while the listening connection reconnects delays a job, never loses it; so does
//! a first connection that fails (it is retried in the background). `LISTEN` needs a session:
//! through a transaction-mode pooler (Supabase's port 6543, PgBouncer in transaction
//! mode) no notification arrives, and workers fall back to polling; connect to the
//! session port (Supabase: 5432) to have them. A
//! transaction's notifications are delivered once it commits, and PostgreSQL folds a
//! transaction's identical notifications into one.

use std::future::poll_fn;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, Config};

/// The channel notified.
pub(crate) const CHANNEL: &str = "callhook_jobs";

/// The statement that notifies, run inside the transaction that adds the jobs.
pub(crate) const NOTIFY: &str = "SELECT pg_notify('callhook_jobs', current_schema())";

/// Tells every listening store of this schema that jobs were added (within `client`'s
/// transaction, if it is one: delivered at its commit).
pub(crate) async fn notify(client: &impl deadpool_postgres::GenericClient) -> Result<(), crate::error::DbError> {
    let statement = client.prepare_cached(NOTIFY).await?;
    client.execute(&statement, &[]).await?;
    Ok(())
}

/// [`notify`] after a write that has committed on its own: a failure is logged, not
/// answered, since the write itself is done (the workers' poll finds its job).
pub(crate) async fn notify_after(client: &impl deadpool_postgres::GenericClient) {
    if let Err(error) = notify(client).await {
        tracing::warn!(%error, "could not NOTIFY other processes of a new job; their workers find it by polling");
    }
}

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Connects the listening connection and starts the task that keeps it (reconnecting
/// after a failure) until `wake` is dropped. Returns once it listens, or once the first
/// attempt failed: the task then keeps trying in the background, and the workers poll
/// until it listens (a database still starting up doesn't cost a store its wake-ups).
pub(crate) async fn start(config: Config, wake: &Arc<Notify>) -> tokio::task::AbortHandle {
    let first = match listen(&config).await {
        Ok(listening) => Some(listening),
        Err(error) => {
            tracing::warn!(%error, "could not LISTEN for other processes' jobs; workers poll until it can");
            None
        }
    };
    let wake = Arc::downgrade(wake);
    tokio::spawn(keep_listening(config, first, wake)).abort_handle()
}

/// A connection listening on [`CHANNEL`], with the schema whose notifications count.
struct Listening {
    connection: tokio_postgres::Connection<tokio_postgres::Socket, TlsStream>,
    /// Kept: dropping the client would close the connection.
    _client: tokio_postgres::Client,
    schema: String,
}

type TlsStream = <crate::tls::Connector as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream;

async fn listen(config: &Config) -> Result<Listening, String> {
    let (client, mut connection) = config.connect(crate::tls::connector()).await.map_err(|e| e.to_string())?;
    // The connection must be polled for the client's queries to get answers.
    let mut setup = Box::pin(async {
        let client = &client;
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        client.query_one("SELECT current_schema()", &[]).await?.try_get::<_, Option<String>>(0)
    });
    let schema = loop {
        tokio::select! {
            result = &mut setup => break result.map_err(|e| e.to_string())?,
            message = poll_fn(|cx| connection.poll_message(cx)) => match message {
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.to_string()),
                None => return Err("the listening connection closed".into()),
            },
        }
    };
    drop(setup);
    Ok(Listening { connection, _client: client, schema: schema.unwrap_or_default() })
}

/// Listens (from `first`, else from a new connection) until `wake` is dropped,
/// reconnecting with backoff whenever the connection is lost.
async fn keep_listening(config: Config, first: Option<Listening>, wake: Weak<Notify>) {
    let mut backoff = Duration::from_millis(100);
    let mut listening = match first {
        Some(listening) => listening,
        None => match reconnect(&config, &wake, &mut backoff).await {
            Some(listening) => listening,
            None => return,
        },
    };
    loop {
        let ended = loop {
            match poll_fn(|cx| listening.connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(notification))) => {
                    if notification.payload() != listening.schema {
                        continue;
                    }
                    let Some(wake) = wake.upgrade() else { return };
                    wake.notify_waiters();
                    backoff = Duration::from_millis(100);
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => break error.to_string(),
                None => break "closed".to_owned(),
            }
        };
        tracing::warn!(error = %ended, "PostgreSQL LISTEN connection lost; workers poll until it is back");
        listening = match reconnect(&config, &wake, &mut backoff).await {
            Some(listening) => listening,
            None => return,
        };
    }
}

/// Connects again, waiting `backoff` before each attempt (doubled at each, up to
/// [`MAX_BACKOFF`]); `None` once the store is gone. Wakes the workers once it listens:
/// jobs may have been added while no one listened.
async fn reconnect(config: &Config, wake: &Weak<Notify>, backoff: &mut Duration) -> Option<Listening> {
    let mut failures = 0u32;
    let listening = loop {
        tokio::time::sleep(*backoff).await;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        if wake.strong_count() == 0 {
            return None;
        }
        match listen(config).await {
            Ok(listening) => break listening,
            // The loss was logged; a server that stays away would log a retry every
            // 30 s for as long as it does: the first failed retry is a warning, the
            // rest debug.
            Err(error) if failures == 0 => {
                tracing::warn!(%error, "could not connect the PostgreSQL LISTEN connection; retrying with backoff")
            }
            Err(error) => tracing::debug!(%error, failures, "could not connect the PostgreSQL LISTEN connection"),
        }
        failures += 1;
    };
    if failures > 0 {
        tracing::info!(failures, "PostgreSQL LISTEN connection back");
    }
    wake.upgrade()?.notify_waiters();
    Some(listening)
}
