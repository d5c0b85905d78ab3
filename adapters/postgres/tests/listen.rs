//! LISTEN/NOTIFY on a real PostgreSQL server: a store's workers are woken by jobs that
//! another store (another process) adds to the same schema, without waiting for their
//! poll.

mod support;

use std::sync::Arc;
use std::time::Duration;

use callhook::event::{Event, ProviderId, UnmodeledEvent};
use callhook::event_log::{EventId, NewDelivery, NewEvent};
use callhook::job_queue::{JobQueue, NewJob};
use callhook::store::Store;
use callhook_postgres::PostgresStore;

const ACME: ProviderId = ProviderId::from_static("acme");
/// Far longer than any test: a waiter that returns was woken, not timed out.
const FOREVER: Duration = Duration::from_secs(3600);

/// Two stores on one schema, as two receivers sharing a database.
async fn two_stores() -> Option<(PostgresStore, Arc<PostgresStore>)> {
    let url = support::server_url()?;
    let schema = support::new_schema(&url).await;
    let adding = support::store_in(&url, &schema).await;
    let waiting = Arc::new(support::store_in(&url, &schema).await);
    Some((adding, waiting))
}

/// Adds jobs through `add` until `waiting` wakes (its wait may begin after the first
/// notification went by); fails if it never does.
async fn wakes(waiting: Arc<PostgresStore>, mut add: impl AsyncFnMut(u32)) {
    let woken = tokio::spawn(async move { waiting.wait_for_work(FOREVER).await });
    for n in 0..1000 {
        if woken.is_finished() {
            return;
        }
        add(n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the other store's worker was never woken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_append_wakes_this_stores_workers() {
    let Some((adding, waiting)) = two_stores().await else { return };
    wakes(waiting, async |n| {
        let key = format!("key-{n}");
        let delivery = NewDelivery::new(ACME, "/webhooks/acme", time::OffsetDateTime::UNIX_EPOCH, key.clone());
        let event = NewEvent::parsed("ping", key, Event::Unmodeled(UnmodeledEvent::new(ACME, "ping")));
        adding.append_and_schedule(delivery, vec![event]).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_scheduled_job_wakes_this_stores_workers() {
    let Some((adding, waiting)) = two_stores().await else { return };
    wakes(waiting, async |n| {
        let job = NewJob::process_event(EventId(i64::from(n) + 1), time::OffsetDateTime::UNIX_EPOCH);
        adding.schedule(job).await.unwrap();
    })
    .await;
}

/// Listens on a loopback port, closes the first connection made to it and forwards
/// every later one to the server at `host`:`port` (any of its addresses): a database
/// briefly unreachable as the store starts (its listening connection is the first it
/// makes). Returns the loopback port.
async fn refusing_once(host: String, port: u16) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gate = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        drop(listener.accept().await);
        while let Ok((mut inbound, _)) = listener.accept().await {
            let host = host.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect((host.as_str(), port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    gate
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_first_listen_failed_listens_once_it_can() {
    use std::str::FromStr;
    let Some(url) = support::server_url() else { return };
    let schema = support::new_schema(&url).await;
    let adding = support::store_in(&url, &schema).await;
    let config = callhook_postgres::Config::from_str(&url).unwrap();
    let (host, port) = match (&config.get_hosts()[0], config.get_ports()[0]) {
        (tokio_postgres::config::Host::Tcp(host), port) => (host.clone(), port),
        _ => panic!("the test server must be reached over TCP: {url}"),
    };
    let mut flaky = callhook_postgres::Config::new();
    flaky.host("127.0.0.1").port(refusing_once(host, port).await).options(format!("-c search_path={schema}"));
    if let Some(user) = config.get_user() {
        flaky.user(user);
    }
    if let Some(password) = config.get_password() {
        flaky.password(password);
    }
    if let Some(dbname) = config.get_dbname() {
        flaky.dbname(dbname);
    }
    let options = callhook_postgres::Options::default().pool_size(2);
    let waiting = Arc::new(PostgresStore::connect_config(flaky, options).await.unwrap());
    // Reconnecting wakes the workers once by itself; a second wake-up can only be a
    // notification that arrived on the connection made in the background.
    for round in 0..2u32 {
        wakes(waiting.clone(), async |n| {
            let id = i64::from(round * 1000 + n) + 1;
            adding.schedule(NewJob::process_event(EventId(id), time::OffsetDateTime::UNIX_EPOCH)).await.unwrap();
        })
        .await;
    }
}
