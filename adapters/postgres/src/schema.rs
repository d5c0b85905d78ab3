//! Versioned migrations, applied in order under an advisory lock so that receivers
//! starting together do not race; each version is recorded in
//! `callhook_schema_migrations`. Migrations are only ever appended.

use tokio_postgres::Client;

/// `(version, SQL)`, in order.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        "
    CREATE TABLE callhook_deliveries (
        id BIGSERIAL PRIMARY KEY,
        provider TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        query TEXT,
        headers TEXT NOT NULL,
        body BYTEA NOT NULL,
        verification TEXT NOT NULL,
        parse_error TEXT
    );
    CREATE TABLE callhook_events (
        id BIGSERIAL PRIMARY KEY,
        delivery_id BIGINT NOT NULL REFERENCES callhook_deliveries (id),
        provider TEXT NOT NULL,
        event_type TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        event TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        received_at BIGINT NOT NULL,
        next_attempt_at BIGINT,
        processed_at BIGINT,
        UNIQUE (provider, dedupe_key)
    );
    CREATE INDEX callhook_events_by_status ON callhook_events (status, id);
    CREATE INDEX callhook_events_by_type ON callhook_events (event_type, id);
    CREATE INDEX callhook_events_by_received_at ON callhook_events (received_at);
    CREATE TABLE callhook_attempts (
        event_id BIGINT NOT NULL REFERENCES callhook_events (id),
        number INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        finished_at BIGINT NOT NULL,
        error TEXT,
        PRIMARY KEY (event_id, number)
    );
    CREATE TABLE callhook_call_states (
        provider TEXT NOT NULL,
        call_id TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (provider, call_id)
    );
    CREATE TABLE callhook_message_states (
        provider TEXT NOT NULL,
        message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (provider, message_id)
    );
    CREATE SEQUENCE callhook_leases;
    CREATE TABLE callhook_jobs (
        id BIGSERIAL PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        visible_at BIGINT NOT NULL,
        deadline BIGINT,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        lease BIGINT
    );
    CREATE INDEX callhook_jobs_by_visible_at ON callhook_jobs (visible_at, id);
    ",
    ),
    (
        2,
        // The subject (call, message or other id) of each event, for timelines and search.
        "
    ALTER TABLE callhook_events ADD COLUMN subject TEXT;
    UPDATE callhook_events SET subject = COALESCE(event::json ->> 'call_id', event::json ->> 'message_id',
        event::json ->> 'subject_id')
    WHERE event IS NOT NULL;
    CREATE INDEX callhook_events_by_subject ON callhook_events (subject, id);
    CREATE INDEX callhook_events_by_provider_status ON callhook_events (provider, status, id);
    ",
    ),
    (
        3,
        // Jobs belong to a queue (events, recordings), claimed separately. The queue is
        // derived from the key (`NewJob`'s keys of event jobs start with
        // `process-event:`), so no writer can file a job in the wrong one, whatever its
        // version.
        "
    ALTER TABLE callhook_jobs ADD COLUMN queue TEXT NOT NULL
        GENERATED ALWAYS AS (CASE WHEN key LIKE 'process-event:%' THEN 'events' ELSE 'recordings' END) STORED;
    DROP INDEX callhook_jobs_by_visible_at;
    CREATE INDEX callhook_jobs_by_queue ON callhook_jobs (queue, visible_at, id);
    ",
    ),
    (
        4,
        // Accounts (which account sent a delivery, with which key), contacts (the
        // customer an event is about) and links (the other calls an event names), each
        // filterable. Rows written before have none; the indexes skip them.
        "
    ALTER TABLE callhook_deliveries ADD COLUMN account TEXT;
    ALTER TABLE callhook_deliveries ADD COLUMN key_slot TEXT;
    ALTER TABLE callhook_events ADD COLUMN account TEXT;
    ALTER TABLE callhook_events ADD COLUMN contact TEXT;
    CREATE INDEX callhook_events_by_account ON callhook_events (account, id) WHERE account IS NOT NULL;
    CREATE INDEX callhook_events_by_contact ON callhook_events (contact, id) WHERE contact IS NOT NULL;
    CREATE TABLE callhook_event_links (
        linked TEXT NOT NULL,
        event_id BIGINT NOT NULL REFERENCES callhook_events (id),
        PRIMARY KEY (linked, event_id)
    );
    ",
    ),
];

/// The newest version this build knows.
pub const VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// An arbitrary constant: the advisory lock that serializes migrations.
const LOCK: i64 = 0x6361_6c6c_686f_6f6b; // "callhook"

/// Applies the migrations the database has not seen.
pub async fn migrate(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK]).await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS callhook_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: i32 =
        tx.query_one("SELECT COALESCE(MAX(version), 0) FROM callhook_schema_migrations", &[]).await?.get(0);
    for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO callhook_schema_migrations (version) VALUES ($1)", &[version]).await?;
    }
    tx.commit().await
}

/// The version the database is at.
pub async fn applied_version(client: &Client) -> Result<i32, tokio_postgres::Error> {
    Ok(client.query_one("SELECT COALESCE(MAX(version), 0) FROM callhook_schema_migrations", &[]).await?.get(0))
}
