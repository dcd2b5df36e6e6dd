//! The real `deckd` binary as a child process on a loopback port, for tests that measure
//! the server's own memory (`/proc/<pid>/status`) rather than the test process's.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The password every account made by [`Spawned::user`] gets.
pub const PASSWORD: &str = "spawned-test-password";

/// The binary under test: this build's, or another one named by `TEST_DECKD_BINARY`
/// (to measure an older build with the same test).
fn binary() -> PathBuf {
    std::env::var_os("TEST_DECKD_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_deckd")))
}

/// A `deckd serve` child with its own data directory, killed when dropped.
pub struct Spawned {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Spawned {
    /// Starts `deckd serve` with default settings plus `env`, and waits until `/readyz` answers 200.
    pub async fn start(env: &[(&str, &str)]) -> Spawned {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(binary());
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .env("DECKD_LOGIN_RATE_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        // The test's own DECKD_* settings (DECKD_FUZZ_SEED, …) are not the server's.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DECKD_")) {
            cmd.env_remove(k);
        }
        cmd.env("DECKD_ALLOW_ROOT", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn deckd");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(300))
            .build()
            .unwrap();
        let server = Spawned {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http,
            data,
            _dir: dir,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut every = tokio::time::interval(Duration::from_millis(25));
        loop {
            every.tick().await;
            if let Ok(r) = self.http.get(self.url("/readyz")).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "deckd never answered /readyz with 200"
            );
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `kB` figure of the server process from /proc/<pid>/status, e.g. `VmHWM:`.
    pub fn status_kb(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("server status");
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in /proc/{}/status", self.child.id()))
    }

    /// Resets the server's VmHWM to its current VmRSS, so the next figure is one attack's peak.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").expect("reset VmHWM");
    }

    /// True while the server process has not exited.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Creates `name` through the real CLI and answers an access token.
    pub async fn user(&self, name: &str) -> String {
        let mut cli = Command::new(binary())
            .args(["user", "add", name, "--data-dir"])
            .arg(&self.data)
            .env("DECKD_ALLOW_ROOT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn deckd user add");
        cli.stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .unwrap();
        let done = tokio::task::spawn_blocking(move || cli.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(done.success(), "deckd user add {name} failed");
        let r = self
            .http
            .post(self.url("/login"))
            .json(&json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login as {name}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    /// POSTs a text body with a bearer token; answers status, Retry-After and text
    /// (status 0 when the connection failed before an answer).
    pub async fn post(&self, path: &str, token: &str, body: String) -> Answer {
        let sent = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .header("Content-Type", "text/plain")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                let retry_after = r.headers().get("retry-after").is_some();
                Answer {
                    status,
                    retry_after,
                    text: r.text().await.unwrap_or_default(),
                }
            }
            Err(e) => Answer {
                status: 0,
                retry_after: false,
                text: format!("POST {path} failed: {e}"),
            },
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }
}

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: bool,
    pub text: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
