//! What the benchmarks share: spawning the real release `deckd`, accounts, a
//! concurrent load driver with latency percentiles, and a description of the machine.
//! Each benchmark binary includes this file and uses part of it.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A `deckd serve` child process on a free loopback port.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data: &std::path::Path, extra_env: &[(&str, &str)]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deckd"));
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "warn")
            .env("DECKD_LOGIN_RATE_PER_MINUTE", "100000")
            .env("DECKD_ALLOW_ROOT", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn deckd");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Server { child, base };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("deckd did not start");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `kB` figure from /proc/<pid>/status, e.g. `VmRSS:` or `VmHWM:`.
    pub fn status_kb(&self, key: &str) -> u64 {
        self.proc_kb("status", key)
    }

    /// A `kB` figure from /proc/<pid>/smaps_rollup, e.g. `Pss:` (shared pages divided
    /// among the processes that map them) or `Private_Dirty:`.
    pub fn rollup_kb(&self, key: &str) -> u64 {
        self.proc_kb("smaps_rollup", key)
    }

    fn proc_kb(&self, file: &str, key: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/{file}", self.child.id())).unwrap();
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap()
    }

    /// How many SQLite connection threads the server runs (one per open connection).
    pub fn sqlite_threads(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/task", self.pid()))
            .map(|tasks| {
                tasks
                    .filter_map(|t| t.ok())
                    .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                    .filter(|name| name.starts_with("sqlx-sqlite"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// RSS once the server has settled after its last request: 2-4 s after the last request
/// starts, deckd closes its idle read connections, empties the writer's page cache and
/// trims its allocator (src/server/quiet.rs), so this waits for the read connections'
/// threads to end; the writer's connection stays open.
pub async fn settled_idle(server: &Server) -> Settled {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.sqlite_threads() > 1 {
        assert!(
            Instant::now() < deadline,
            "the read connections never closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    Settled {
        rss: server.status_kb("VmRSS:"),
        pss: server.rollup_kb("Pss:"),
        private: server.rollup_kb("Private_Clean:") + server.rollup_kb("Private_Dirty:"),
    }
}

/// An idle server's memory three ways, in kB: RSS counts every mapped page, including
/// the C library's that every process shares; PSS divides shared pages among their users.
pub struct Settled {
    pub rss: u64,
    pub pss: u64,
    pub private: u64,
}

/// Creates an account with the benchmark password through the real CLI.
pub fn add_user(data: &std::path::Path, name: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_deckd"))
        .args(["user", "add", name, "--data-dir"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"benchmark-password\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Logs in and answers the access token.
pub async fn login(http: &reqwest::Client, base: &str, name: &str) -> String {
    let r = reply(
        http.post(format!("{base}/login"))
            .json(&json!({"username": name, "password": "benchmark-password"})),
    )
    .await;
    r["token"].as_str().unwrap().to_string()
}

/// Sends a request and answers its JSON reply (panicking on any failure: this is a benchmark).
pub async fn reply(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Sends `/createDeck` with the add-on's GZB64 `body` and answers its JSON reply.
pub async fn create_deck(http: &reqwest::Client, base: &str, token: &str, body: String) -> Value {
    reply(
        http.post(format!("{base}/createDeck"))
            .bearer_auth(token)
            .header("content-type", "text/plain")
            .body(body),
    )
    .await
}

/// The GZB64 answer of one pull.
pub async fn pull_text(http: &reqwest::Client, base: &str, map: &Value) -> String {
    http.post(format!("{base}/pullChanges"))
        .json(map)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The benchmark's own arguments (cargo adds `--bench`); None when cargo only lists
/// benchmarks (`--list`), which must not run one.
pub fn bench_args() -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    (!args.iter().any(|a| a == "--list")).then_some(args)
}

/// The value after `name` on the command line.
pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// GZB64 of `v`, the add-on's body encoding: base64(gzip(JSON)).
pub fn gzb64(v: &Value) -> String {
    deckd::wire::gzb64::encode_value(v).expect("encoding in memory")
}

/// Decodes a GZB64 answer (base64 of gzip of JSON).
pub fn gzb64_decode(text: &str) -> Value {
    use base64::Engine;
    use std::io::Read;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .expect("base64 answer");
    let mut json = String::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .read_to_string(&mut json)
        .expect("gzip answer");
    serde_json::from_str(&json).expect("JSON answer")
}

/// Latency figures of one load run.
pub struct Run {
    pub requests: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

/// `clients` tasks each send `per_client` requests made by `make`.
pub async fn load<F>(clients: usize, per_client: usize, make: F) -> Run
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let t = Instant::now();
                let resp = make(c * per_client + i).send().await.expect("request");
                let status = resp.status();
                let _ = resp.bytes().await.expect("body");
                assert!(status.is_success(), "status {status}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        all[((all.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(all.len() - 1)]
    };
    Run {
        requests: all.len(),
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

/// A Markdown table row of a run.
pub fn row(name: &str, clients: usize, r: &Run) -> String {
    format!(
        "| {name} | {clients} | {} | {:.1} | {:.2} | {:.2} |",
        r.requests,
        r.requests as f64 / r.elapsed.as_secs_f64(),
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3
    )
}

/// Cores, CPU model and kernel, for the report header.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores, {cpu}, Linux {}, {}",
        kernel.trim(),
        binary_readahead()
    )
}

/// The readahead of the disk holding the deckd binary: when the binary is read from disk
/// at start, the kernel reads and maps that much of it around each page fault, so it sets
/// how much of the code is resident (8 MB on some virtual disks, 128 kB by default and on
/// SD cards).
fn binary_readahead() -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(env!("CARGO_BIN_EXE_deckd")) else {
        return "binary readahead unknown".into();
    };
    let (major, minor) = (libc::major(meta.dev()), libc::minor(meta.dev()));
    let device = format!("/sys/dev/block/{major}:{minor}");
    // A partition has no queue of its own; its disk's is one directory up.
    [
        format!("{device}/queue/read_ahead_kb"),
        format!("{device}/../queue/read_ahead_kb"),
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .map(|kb| format!("binary's disk reads ahead {} kB", kb.trim()))
    .unwrap_or_else(|| "binary readahead unknown".into())
}

/// ` --profile <name>` when the spawned deckd was built with a profile other than
/// `release`, for the command line a results file records.
pub fn profile_flag() -> String {
    let profile = std::path::Path::new(env!("CARGO_BIN_EXE_deckd"))
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|p| p.to_str())
        .unwrap_or("release");
    if profile == "release" {
        String::new()
    } else {
        format!(" --profile {profile}")
    }
}
