//! What the end-to-end tests share: a ledger in a temporary directory and the built
//! `planledger` binary to run against it, with a fixed clock.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;

/// A fresh ledger directory (created by `init`) in its own temporary directory.
pub struct TestLedger {
    pub dir: tempfile::TempDir,
    /// What `PLANLEDGER_LEDGER` is set to: `ledger/` in `dir`, or a database URL.
    location: std::ffi::OsString,
}

impl TestLedger {
    /// A temporary directory with an initialised, empty ledger in `ledger/`.
    pub fn new() -> TestLedger {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let location = dir.path().join("ledger").into_os_string();
        let t = TestLedger { dir, location };
        t.ok(&["init"]);
        t
    }

    /// A temporary directory, with the ledger at `location` (not initialised).
    pub fn at(location: &str) -> TestLedger {
        TestLedger {
            dir: tempfile::tempdir().expect("a temporary directory"),
            location: location.into(),
        }
    }

    pub fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    /// A path inside the temporary directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to a file in the temporary directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).expect("write a test file");
        p
    }

    /// The binary, pointed at this ledger by `PLANLEDGER_LEDGER` (so a test can give
    /// another with `--ledger`), with no other environment of the caller's.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_planledger"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PLANLEDGER_LEDGER", &self.location);
        c
    }

    /// Runs with `--claimed-at` and the arguments; returns the output whatever the exit code.
    pub fn run_at(&self, now: &str, args: &[&str]) -> Output {
        self.cmd()
            .args(["--claimed-at", now])
            .args(args)
            .output()
            .expect("the binary runs")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_at("2026-03-02T09:00:00Z", args)
    }

    /// Runs and asserts exit 0; returns stdout.
    pub fn ok_at(&self, now: &str, args: &[&str]) -> String {
        let out = self.run_at(now, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "planledger {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_at("2026-03-02T09:00:00Z", args)
    }

    /// Runs, asserts exit `code`, returns stderr.
    pub fn fails_at(&self, now: &str, args: &[&str], code: i32) -> String {
        let out = self.run_at(now, args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "planledger {args:?}: expected exit {code}; stdout: {} stderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    /// The ledger head as `head --json` prints it.
    pub fn head(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["head", "--json"])).expect("head --json is JSON")
    }

    /// What every record of an embedded ledger says, without where and when it was
    /// sealed: two ledgers given the same commands at the same claimed times hold the same
    /// entries, though their sealing times (the store's clock) and so their hashes differ.
    /// Read from the file directly; no process may hold the ledger open.
    pub fn entries(&self) -> Vec<planledger_ledger::Entry> {
        let db = redb::Database::open(self.redb_file()).expect("open the ledger file");
        let txn = redb::ReadableDatabase::begin_read(&db).expect("a read transaction");
        let records: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("records");
        let table = txn.open_table(records).expect("the records table");
        redb::ReadableTable::iter(&table)
            .expect("iterate the records")
            .map(|row| {
                let (_, bytes) = row.expect("a record");
                planledger_ledger::Record::decode(bytes.value().to_vec())
                    .expect("a record decodes")
                    .entry()
                    .clone()
            })
            .collect()
    }

    /// The redb file of the ledger (for tampering with it directly).
    pub fn redb_file(&self) -> PathBuf {
        self.ledger().join("ledger.redb")
    }
}
