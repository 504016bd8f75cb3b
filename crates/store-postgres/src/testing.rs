//! A throwaway PostgreSQL server for tests and benches: `initdb` into a temporary
//! directory, a free loopback port, torn down when dropped (or, for the server shared by
//! a whole test binary, when the test process exits).
//!
//! PostgreSQL refuses to run as root. When the tests run as root (CI containers do), the
//! server runs as the `postgres` system user that the Debian packages create: the
//! temporary directory is handed to that user and every server program is started with
//! its uid and gid. Missing binaries are an error that says how to install them: the
//! PostgreSQL tests never skip silently.
//!
//! Every server runs under a small `sh` supervisor whose standard input is a pipe from
//! this process. Dropping the [`TestServer`] closes the pipe; so does the end of the test
//! process, however it ends, which matters for [`shared`] (a static is never dropped).
//! On end of input the supervisor stops the server and removes the directory.

use std::fmt::Write as _;
use std::io::Read as _;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Why a test server could not be started or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres, pg_basebackup) not found (looked in {searched}); \
         install them with `apt-get install postgresql-15`, or set PLANLEDGER_PG_BIN to their directory"
    )]
    BinariesMissing { searched: String },
    #[error(
        "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` user \
         to run it as; `apt-get install postgresql-15` creates one"
    )]
    NoServerUser,
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("the PostgreSQL server on port {port} did not become ready; its log ends:\n{log_tail}")]
    NotReady { port: u16, log_tail: String },
    #[error("{what}: {source}")]
    Sql {
        what: String,
        #[source]
        source: postgres::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}

/// A running throwaway server. Connect as the superuser `postgres` with [`TestServer::url`].
pub struct TestServer {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
    supervisor: Mutex<Option<(Child, ChildStdin)>>,
    databases: AtomicU64,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish()
    }
}

/// The server shared by every test of one test binary, started on first use. Each test
/// takes a database of its own ([`TestServer::create_database`]).
///
/// # Panics
/// If the server cannot be started; the message says why (for instance how to install
/// the binaries).
pub fn shared() -> &'static TestServer {
    static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
    match SERVER.get_or_init(|| TestServer::start().map_err(|e| e.to_string())) {
        Ok(server) => server,
        Err(e) => panic!("cannot start the shared PostgreSQL test server: {e}"),
    }
}

impl TestServer {
    /// Starts a server with the default settings (fsync and synchronous commit on).
    pub fn start() -> Result<TestServer, HarnessError> {
        TestServer::start_with(&[])
    }

    /// Starts a fresh cluster with extra `postgres -c name=value` settings.
    pub fn start_with(settings: &[(&str, &str)]) -> Result<TestServer, HarnessError> {
        let mut server = TestServer::prepare()?;
        server.initdb()?;
        server.launch(settings)?;
        Ok(server)
    }

    /// Starts a fresh cluster that offers TLS (`ssl = on`) with this certificate (PEM,
    /// the server's first, then any intermediates) and private key (PEM); plain
    /// connections are still accepted, so [`TestServer::url`] works as usual.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Result<TestServer, HarnessError> {
        let mut server = TestServer::prepare()?;
        server.initdb()?;
        let mut paths = Vec::new();
        // The server refuses a key file others may read.
        for (name, text, mode) in [
            ("server.crt", cert_pem, 0o644),
            ("server.key", key_pem, 0o600),
        ] {
            let path = server.dir.path().join(name);
            std::fs::write(&path, text).map_err(io(format!("write {name}")))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(io(format!("set the mode of {name}")))?;
            if let Some((uid, gid)) = server.run_as {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                    .map_err(io(format!("hand {name} to the postgres user")))?;
            }
            paths.push(path.display().to_string());
        }
        server.launch(&[
            ("ssl", "on"),
            ("ssl_cert_file", &paths[0]),
            ("ssl_key_file", &paths[1]),
            // The log then says of each connection whether it used TLS.
            ("log_connections", "on"),
        ])?;
        Ok(server)
    }

    fn initdb(&self) -> Result<(), HarnessError> {
        let data = self.data_dir();
        self.run(
            "initdb",
            Command::new(self.bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-instructions"])
                // The cluster's initial files are not synced: a throwaway cluster never
                // outlives the machine. The WAL of every commit is still flushed.
                .arg("--no-sync"),
        )
    }

    /// Starts a streaming-replication standby of `primary` (`pg_basebackup -R`), named
    /// `application_name` for `synchronous_standby_names`.
    pub fn standby_of(
        primary: &TestServer,
        application_name: &str,
        settings: &[(&str, &str)],
    ) -> Result<TestServer, HarnessError> {
        let mut server = TestServer::prepare()?;
        let data = server.data_dir();
        server.run(
            "pg_basebackup",
            Command::new(server.bin.join("pg_basebackup"))
                .arg("-D")
                .arg(&data)
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(primary.port.to_string())
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]),
        )?;
        let mut all: Vec<(&str, &str)> = vec![("cluster_name", application_name)];
        all.extend_from_slice(settings);
        server.launch(&all)?;
        Ok(server)
    }

    fn prepare() -> Result<TestServer, HarnessError> {
        let bin = find_binaries()?;
        let run_as = if std::fs::metadata("/proc/self")
            .map_err(io("stat /proc/self"))?
            .uid()
            == 0
        {
            Some(server_user()?)
        } else {
            None
        };
        // Under /tmp, not $TMPDIR: the server user must reach it (a root-only TMPDIR
        // would not do), and unix socket paths stay short.
        let dir = tempfile::Builder::new()
            .prefix("planledger-pg-")
            .permissions(std::fs::Permissions::from_mode(0o755))
            .tempdir_in("/tmp")
            .map_err(io("create a temporary directory under /tmp"))?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(io("hand the temporary directory to the postgres user"))?;
        }
        Ok(TestServer {
            dir,
            port: 0,
            bin,
            run_as,
            supervisor: Mutex::new(None),
            databases: AtomicU64::new(0),
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn as_server_user<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        if let Some((uid, gid)) = self.run_as {
            // std drops supplementary groups when a root process sets a uid.
            cmd.uid(uid).gid(gid);
        }
        cmd.current_dir(self.dir.path())
    }

    fn run(&self, what: &str, cmd: &mut Command) -> Result<(), HarnessError> {
        let out = self
            .as_server_user(cmd)
            .stdin(Stdio::null())
            .output()
            .map_err(io(format!("run {what}")))?;
        if out.status.success() {
            return Ok(());
        }
        Err(HarnessError::Command {
            what: what.into(),
            status: out.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })
    }

    /// Starts the server under its supervisor and waits until it accepts connections.
    /// A port taken between choosing and binding it is retried with another.
    fn launch(&mut self, settings: &[(&str, &str)]) -> Result<(), HarnessError> {
        let mut last = None;
        for _ in 0..3 {
            self.port = free_port()?;
            match self.launch_once(settings) {
                Ok(()) => return Ok(()),
                Err(e @ HarnessError::NotReady { .. }) => {
                    self.stop();
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("three attempts were made"))
    }

    fn launch_once(&mut self, settings: &[(&str, &str)]) -> Result<(), HarnessError> {
        const SUPERVISOR: &str = r#"
bin=$1; data=$2; log=$3; dir=$4; shift 4
"$bin/postgres" -D "$data" "$@" >>"$log" 2>&1 </dev/null &
pid=$!
read -r _ || :
kill -QUIT "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$dir"
"#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(SUPERVISOR)
            .arg("sh")
            .arg(&self.bin)
            .arg(self.data_dir())
            .arg(self.log_path())
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="]);
        for (name, value) in settings {
            cmd.arg("-c").arg(format!("{name}={value}"));
        }
        let mut child = self
            .as_server_user(&mut cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("start the PostgreSQL supervisor (sh)"))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        *self.supervisor.lock().unwrap_or_else(|e| e.into_inner()) = Some((child, stdin));

        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok() {
                return Ok(());
            }
            let exited = {
                let mut sup = self.supervisor.lock().unwrap_or_else(|e| e.into_inner());
                let (child, _) = sup.as_mut().expect("just started");
                // The supervisor only exits on end of input, or when `sh` fails; the
                // server having died shows as a log that says so and no connections.
                child.try_wait().map(|s| s.is_some()).unwrap_or(true)
            };
            let log = self.log_tail();
            if exited || Instant::now() > deadline || log.contains("could not bind") {
                return Err(HarnessError::NotReady {
                    port: self.port,
                    log_tail: log,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of the server log (for error messages; test servers hold only
    /// synthetic data).
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.log_path()) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let mut out = String::new();
        for line in &lines[lines.len().saturating_sub(30)..] {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database`, as the superuser.
    pub fn url(&self, database: &str) -> String {
        self.url_as("postgres", database)
    }

    /// A connection URL for `database`, as `user` (no password: the test cluster trusts
    /// loopback connections).
    pub fn url_as(&self, user: &str, database: &str) -> String {
        format!(
            "postgresql://{user}@127.0.0.1:{}/{database}?connect_timeout=10",
            self.port
        )
    }

    /// A superuser connection to the `postgres` database.
    pub fn admin(&self) -> Result<postgres::Client, HarnessError> {
        postgres::Client::connect(&self.url("postgres"), postgres::NoTls).map_err(|source| {
            HarnessError::Sql {
                what: "connect to the test server".into(),
                source,
            }
        })
    }

    /// Creates a fresh database with a name unique in this server and returns its URL.
    pub fn create_database(&self) -> Result<String, HarnessError> {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        self.admin()?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|source| HarnessError::Sql {
                what: format!("create database {name}"),
                source,
            })?;
        Ok(self.url(&name))
    }

    /// Promotes this standby to a primary and waits until it accepts writes.
    pub fn promote(&self) -> Result<(), HarnessError> {
        let sql = |source| HarnessError::Sql {
            what: "promote the standby".into(),
            source,
        };
        let promoted: bool = self
            .admin()?
            .query_one("SELECT pg_promote(true, 60)", &[])
            .map_err(sql)?
            .get(0);
        if promoted {
            Ok(())
        } else {
            Err(HarnessError::NotReady {
                port: self.port,
                log_tail: self.log_tail(),
            })
        }
    }

    /// Kills the server as a crash would: SIGKILL to the postmaster and every process it
    /// started, at once, with no shutdown checkpoint and no goodbye to clients.
    pub fn kill_hard(&self) -> Result<(), HarnessError> {
        let pidfile = self.data_dir().join("postmaster.pid");
        let text = std::fs::read_to_string(&pidfile).map_err(io("read postmaster.pid"))?;
        let postmaster: u32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| HarnessError::Command {
                what: "read postmaster.pid".into(),
                status: "no pid on its first line".into(),
                output: String::new(),
            })?;
        let mut pids = vec![postmaster.to_string()];
        pids.extend(children_of(postmaster).into_iter().map(|p| p.to_string()));
        let out = Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .output()
            .map_err(io("run kill"))?;
        if !out.status.success() {
            return Err(HarnessError::Command {
                what: "kill -KILL the server".into(),
                status: out.status.to_string(),
                output: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(())
    }

    /// Stops the server and waits for its supervisor to clean up.
    fn stop(&self) {
        let taken = self
            .supervisor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((mut child, stdin)) = taken {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state, ppid, ...
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let ppid = after.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        if ppid == Some(parent) {
            out.push(pid);
        }
    }
    out
}

fn free_port() -> Result<u16, HarnessError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("find a free loopback port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("find a free loopback port"))?
        .port())
}

/// The directory holding `initdb` and `postgres`: `PLANLEDGER_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), else `pg_config --bindir`.
fn find_binaries() -> Result<PathBuf, HarnessError> {
    let has_all = |dir: &Path| {
        ["initdb", "postgres", "pg_basebackup"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    let mut searched = Vec::new();
    if let Some(dir) = std::env::var_os("PLANLEDGER_PG_BIN") {
        let dir = PathBuf::from(dir);
        if has_all(&dir) {
            return Ok(dir);
        }
        searched.push(dir.display().to_string());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.into_iter().rev().find(|(_, d)| has_all(d)) {
        return Ok(dir);
    }
    searched.push("/usr/lib/postgresql/*/bin".into());
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_all(&dir) {
            return Ok(dir);
        }
        searched.push(dir.display().to_string());
    }
    Err(HarnessError::BinariesMissing {
        searched: searched.join(", "),
    })
}

/// The uid and gid of the `postgres` user, from /etc/passwd.
fn server_user() -> Result<(u32, u32), HarnessError> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(io("read /etc/passwd"))?;
    passwd
        .lines()
        .find_map(|line| {
            let mut f = line.split(':');
            if f.next()? != "postgres" {
                return None;
            }
            let _password = f.next()?;
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .ok_or(HarnessError::NoServerUser)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_starts_accepts_a_database_and_is_removed_on_drop() {
        let server = TestServer::start().expect("start a test server");
        let url = server.create_database().unwrap();
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
        assert_eq!(one, 1);
        let dir = server.dir.path().to_path_buf();
        drop(client);
        drop(server);
        assert!(!dir.exists(), "the cluster directory is removed on drop");
    }
}
