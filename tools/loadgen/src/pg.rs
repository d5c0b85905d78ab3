//! PostgreSQL for the tests: the server named by `CALLHOOK_TEST_POSTGRES_URL`, or a
//! throwaway cluster of our own that the outage test may stop and start (Debian's
//! packages, as `.ci/postgres.sh` starts one; as root, the tools run as the
//! `callhook-pg` system user, since `initdb` refuses root).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;

/// The test server's URL: `CALLHOOK_TEST_POSTGRES_URL`, else a `postgres://`
/// `DATABASE_URL`.
pub fn test_url() -> Option<String> {
    let test = std::env::var("CALLHOOK_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty());
    test.or_else(|| std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres")))
}

/// A cluster in a temporary directory, removed on drop.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
}

const USER: &str = "callhook-pg";

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

impl Cluster {
    /// Creates and starts a cluster on a free loopback port.
    pub fn start_private() -> Result<Self, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "PostgreSQL is not installed (apt-get install postgresql)".to_owned())?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max_by_key(|bin| {
                let version = bin.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("0");
                version.split('.').next().and_then(|major| major.parse::<u32>().ok()).unwrap_or(0)
            })
            .ok_or("PostgreSQL is not installed (apt-get install postgresql)")?;
        let root = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
        let dir = crate::server::run_dir(None, "pg")?;
        let run_as = if root {
            if !Command::new("id").arg(USER).output().is_ok_and(|o| o.status.success()) {
                run(
                    Command::new("useradd").args([
                        "--system",
                        "--no-create-home",
                        "--shell",
                        "/usr/sbin/nologin",
                        USER,
                    ]),
                    "useradd",
                )?;
            }
            run(Command::new("chown").arg(USER).arg(&dir), "chown")?;
            Some(USER)
        } else {
            None
        };
        let port = crate::server::free_address()?.port();
        let cluster = Self { bin, dir, port, run_as };
        run(
            cluster.command("initdb").arg("-D").arg(cluster.data()).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]),
            "initdb",
        )?;
        cluster.start()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Where it is (data directory and log).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Starts it and waits until it accepts connections.
    pub fn start(&self) -> Result<(), String> {
        let options =
            format!("-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=300", self.port, self.dir.display());
        run(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("server.log"))
                .args(["-w", "-o", &options, "start"]),
            "pg_ctl start",
        )
    }

    /// Stops it: `mode` is `fast` (disconnect clients, roll back what is open) or
    /// `immediate` (as if it crashed: recovery on the next start).
    pub fn stop(&self, mode: &str) -> Result<(), String> {
        run(self.command("pg_ctl").arg("-D").arg(self.data()).args(["-m", mode, "-w", "stop"]), "pg_ctl stop")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop("immediate");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
