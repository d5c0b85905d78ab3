//! The server as a child process: this binary run again as `serve`, so it can be
//! measured on its own (`/proc/<pid>/stat`) and killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve::ServeOptions;

/// A running `serve` child.
pub struct ServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Where it listens.
    pub address: SocketAddr,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `serve` with `options` (stderr appended to `log`) and waits until it
    /// listens.
    pub fn spawn(options: &ServeOptions, log: &Path) -> Result<Self, String> {
        let mut options = options.clone();
        options.exit_on_stdin_eof = true;
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("server log {}: {e}", log.display()))?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(options.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("could not start the server: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening ") {
                    let _ = sender.send(address.trim().to_owned());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let stdin = child.stdin.take();
        let mut server = Self { child, stdin, address: options.listen, log: log.to_owned() };
        loop {
            match receiver.recv_timeout(Duration::from_millis(50)) {
                Ok(address) => {
                    server.address = address.parse().map_err(|e| format!("server said {address:?}: {e}"))?;
                    return Ok(server);
                }
                Err(_) if !server.alive() => {
                    return Err(format!("the server exited at start-up:\n{}", server.log_tail()));
                }
                Err(_) if Instant::now() > deadline => {
                    server.kill();
                    return Err(format!("the server did not start within 60 s:\n{}", server.log_tail()));
                }
                Err(_) => {}
            }
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it gracefully (closes its stdin: it finishes in-flight requests and jobs);
    /// kills it after 30 s.
    pub fn stop(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("the server exited with {status}:\n{}", self.log_tail())),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        self.kill();
        Err("the server did not stop within 30 s; killed".into())
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.alive() {
            self.kill();
        }
    }
}

/// A loopback address free right now (for a server that must come back on the same
/// port after a restart).
pub fn free_address() -> Result<SocketAddr, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map_err(|e| e.to_string())
}

/// A new empty directory for one run's files, under `base` or the temporary directory.
pub fn run_dir(base: Option<&Path>, what: &str) -> Result<PathBuf, String> {
    let base = base.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let dir = base.join(format!("callhook-load-{what}-{}", crate::workload::run_id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Waits until `address` answers `GET /healthz` with `expected`, at most `timeout`.
pub async fn wait_health(address: SocketAddr, expected: u16, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if healthz(address).await == Some(expected) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// The status of `GET /healthz`, `None` when the server does not answer within 2 s.
pub async fn healthz(address: SocketAddr) -> Option<u16> {
    use http_body_util::{BodyExt, Empty};
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(address).await.ok()?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.ok()?;
        tokio::spawn(connection);
        let request = http::Request::get("/healthz")
            .header(http::header::HOST, address.to_string())
            .body(Empty::<bytes::Bytes>::new())
            .ok()?;
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        response.into_body().collect().await.ok()?;
        Some(status)
    };
    tokio::time::timeout(Duration::from_secs(2), exchange).await.ok().flatten()
}
