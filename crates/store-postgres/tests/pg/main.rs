//! PostgresStore against a real server: one throwaway server for this whole test binary
//! (`testing::shared`), a fresh database per test.

mod conformance;
mod store;
mod tamper;

/// A fresh, migrated database on the shared test server.
pub fn migrated_db() -> String {
    let url = planledger_store_postgres::testing::shared()
        .create_database()
        .expect("create a database");
    planledger_store_postgres::migrate(&url).expect("migrate");
    url
}

/// A superuser connection: the database administrator of the tamper tests.
pub fn superuser(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect as superuser")
}
