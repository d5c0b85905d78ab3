//! The schema, as numbered migrations applied on open (`PRAGMA user_version` holds the
//! number applied). Migrations are only ever appended.

use rusqlite::Connection;

/// Migration `n` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the event log, folded state and the job queue.
    "
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        provider TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        query TEXT,
        headers TEXT NOT NULL,
        body BLOB NOT NULL,
        verification TEXT NOT NULL,
        parse_error TEXT
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        provider TEXT NOT NULL,
        event_type TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        event TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        received_at INTEGER NOT NULL,
        next_attempt_at INTEGER,
        processed_at INTEGER,
        UNIQUE (provider, dedupe_key)
    );
    CREATE INDEX events_by_status ON events (status, id);
    CREATE INDEX events_by_type ON events (event_type, id);
    CREATE INDEX events_by_received_at ON events (received_at);
    CREATE TABLE attempts (
        event_id INTEGER NOT NULL REFERENCES events (id),
        number INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        error TEXT,
        PRIMARY KEY (event_id, number)
    );
    CREATE TABLE call_states (
        provider TEXT NOT NULL,
        call_id TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (provider, call_id)
    );
    CREATE TABLE message_states (
        provider TEXT NOT NULL,
        message_id TEXT NOT NULL,
        state TEXT NOT NULL,
        PRIMARY KEY (provider, message_id)
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        deadline INTEGER,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        lease INTEGER
    );
    CREATE INDEX jobs_by_visible_at ON jobs (visible_at, id);
    ",
    // 2: the subject (call, message or other id) of each event, for timelines and search.
    "
    ALTER TABLE events ADD COLUMN subject TEXT;
    UPDATE events SET subject = COALESCE(json_extract(event, '$.call_id'), json_extract(event, '$.message_id'),
        json_extract(event, '$.subject_id'))
    WHERE event IS NOT NULL;
    CREATE INDEX events_by_subject ON events (subject, id);
    CREATE INDEX events_by_provider_status ON events (provider, status, id);
    ",
    // 3: jobs belong to a queue (events, recordings), claimed separately. The queue is
    // derived from the key (`NewJob`'s keys of event jobs start with `process-event:`),
    // so no writer can file a job in the wrong one, whatever its version.
    "
    ALTER TABLE jobs ADD COLUMN queue TEXT
        GENERATED ALWAYS AS (CASE WHEN key LIKE 'process-event:%' THEN 'events' ELSE 'recordings' END) VIRTUAL;
    DROP INDEX jobs_by_visible_at;
    CREATE INDEX jobs_by_queue ON jobs (queue, visible_at, id);
    ",
    // 4: the row health checks rewrite, to prove a write commits and syncs.
    "
    CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        beats INTEGER NOT NULL,
        at INTEGER NOT NULL
    );
    INSERT INTO heartbeat (id, beats, at) VALUES (1, 0, 0);
    ",
    // 5: accounts (which account sent a delivery, with which key), contacts (the
    // customer an event is about) and links (the other calls an event names), each
    // filterable. Rows written before have none; the indexes skip them.
    "
    ALTER TABLE deliveries ADD COLUMN account TEXT;
    ALTER TABLE deliveries ADD COLUMN key_slot TEXT;
    ALTER TABLE events ADD COLUMN account TEXT;
    ALTER TABLE events ADD COLUMN contact TEXT;
    CREATE INDEX events_by_account ON events (account, id) WHERE account IS NOT NULL;
    CREATE INDEX events_by_contact ON events (contact, id) WHERE contact IS NOT NULL;
    CREATE TABLE event_links (
        linked TEXT NOT NULL,
        event_id INTEGER NOT NULL REFERENCES events (id),
        PRIMARY KEY (linked, event_id)
    ) WITHOUT ROWID;
    ",
];

/// The schema version this build writes.
pub const VERSION: usize = MIGRATIONS.len();

/// Applies the migrations `conn` has not seen, in one transaction.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: usize = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "database schema version {current} is newer than this build's {VERSION}"
        )));
    }
    for migration in &MIGRATIONS[current..] {
        tx.execute_batch(migration)?;
    }
    tx.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    tx.commit()
}
