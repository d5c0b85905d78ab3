//! A fresh schema on the test server for each store, so tests never see each other.
//!
//! The server's URL comes from `CALLHOOK_TEST_POSTGRES_URL` (`.ci/run` starts a
//! throwaway cluster and sets it). Unset, the tests say they were skipped; unset under
//! `CI=true`, they fail.
#![allow(dead_code)]

use std::str::FromStr;

use callhook_postgres::{Config, Options, PostgresStore};

pub const URL_VAR: &str = "CALLHOOK_TEST_POSTGRES_URL";

/// The server's URL, or `None` (after saying so) when no server is configured.
pub fn server_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{URL_VAR} is not set under CI=true: the PostgreSQL tests must run, not be skipped")
        }
        _ => {
            eprintln!("SKIPPED: {URL_VAR} is not set, so this PostgreSQL test did not run (see the README)");
            None
        }
    }
}

/// Creates a new empty schema and returns its name.
pub async fn new_schema(url: &str) -> String {
    let (client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect to the test server");
    tokio::spawn(connection);
    let schema = format!("callhook_test_{}", fastrand::u64(..));
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
    schema
}

/// A store in `schema`.
pub async fn store_in(url: &str, schema: &str) -> PostgresStore {
    store_with(url, schema, Options::default().pool_size(8)).await
}

/// A store in `schema` with `options`.
pub async fn store_with(url: &str, schema: &str, options: Options) -> PostgresStore {
    let mut config = Config::from_str(url).expect("valid URL");
    config.options(format!("-c search_path={schema}"));
    PostgresStore::connect_config(config, options).await.expect("connect the store")
}

/// A store in a fresh schema, or `None` when no server is configured.
pub async fn fresh() -> Option<std::sync::Arc<PostgresStore>> {
    fresh_with(Options::default().pool_size(8)).await
}

/// [`fresh`] with `options`.
pub async fn fresh_with(options: Options) -> Option<std::sync::Arc<PostgresStore>> {
    let url = server_url()?;
    let schema = new_schema(&url).await;
    Some(std::sync::Arc::new(store_with(&url, &schema, options).await))
}
