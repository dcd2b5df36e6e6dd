//! The sd_notify protocol as systemd sees it: a real unix datagram socket is the
//! NOTIFY_SOCKET of a spawned `deckd serve`, and every datagram it sends is checked.
//! Also: `serve` refuses to run as root unless allowed.
use deckd_testkit as common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::deckd_command;
use common::spawned::free_port;

/// Safety net against a hung test; no assertion depends on it.
const PATIENCE: Duration = Duration::from_secs(60);

/// The status code of a raw HTTP/1.1 request to `addr`.
fn http_status(addr: &str, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A spawned server and the socket it notifies.
struct Notified {
    child: Child,
    socket: UnixDatagram,
    addr: String,
    dir: tempfile::TempDir,
}

impl Notified {
    fn spawn(extra_env: &[(&str, &str)]) -> Notified {
        let dir = tempfile::tempdir().unwrap();
        let socket_path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&socket_path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = deckd_command();
        cmd.args(["serve", "--listen", &addr, "--data-dir"])
            .arg(dir.path().join("data"))
            .env("NOTIFY_SOCKET", &socket_path)
            .env("DECKD_ALLOW_ROOT", "1")
            .env("DECKD_MONITOR_INTERVAL_SECS", "1")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .env_remove("RUST_LOG")
            // What deckd does with glibc's tunables is for each test to choose.
            .env_remove("GLIBC_TUNABLES")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Notified {
            child: cmd.spawn().unwrap(),
            socket,
            addr,
            dir,
        }
    }

    /// Next datagram, split into its `KEY=value` lines; `None` once PATIENCE ran out.
    fn next(&mut self, since: Instant) -> Option<Vec<String>> {
        let mut buf = vec![0u8; 4096];
        while since.elapsed() < PATIENCE {
            match self.socket.recv(&mut buf) {
                Ok(n) => {
                    return Some(
                        String::from_utf8_lossy(&buf[..n])
                            .lines()
                            .map(str::to_string)
                            .collect(),
                    )
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("deckd exited early with {status}");
                    }
                }
                Err(e) => panic!("reading the notify socket: {e}"),
            }
        }
        None
    }

    /// Reads datagrams until one has a line satisfying `want`; returns every line seen, in order.
    fn until(&mut self, what: &str, want: impl Fn(&str) -> bool) -> Vec<String> {
        let start = Instant::now();
        let mut seen = Vec::new();
        loop {
            let Some(lines) = self.next(start) else {
                panic!("never got {what}; got {seen:?}")
            };
            let hit = lines.iter().any(|l| want(l));
            seen.extend(lines);
            if hit {
                return seen;
            }
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ready_status_watchdog_and_stopping_reach_the_notify_socket() {
    let mut d = Notified::spawn(&[("WATCHDOG_USEC", "1000000")]);

    let before_ready = d.until("READY=1", |l| l == "READY=1");
    // READY=1 is only sent after deckd answered its own probe, so /readyz must answer now.
    assert_eq!(
        http_status(&d.addr, "GET", "/readyz"),
        Some(200),
        "READY=1 arrived before /readyz answered"
    );
    let extend = before_ready
        .iter()
        .position(|l| l.starts_with("EXTEND_TIMEOUT_USEC="));
    let ready = before_ready.iter().position(|l| l == "READY=1");
    assert!(
        extend.is_some() && extend < ready,
        "EXTEND_TIMEOUT_USEC during migrations, before READY=1: {before_ready:?}"
    );

    // WATCHDOG_USEC=1 s: pings every half second, each after a passing probe.
    d.until("a first WATCHDOG=1", |l| l == "WATCHDOG=1");
    d.until("a second WATCHDOG=1", |l| l == "WATCHDOG=1");

    // Two counted requests (health probes are not counted), then a readable STATUS line.
    assert_eq!(http_status(&d.addr, "POST", "/CheckUserToken"), Some(200));
    assert_eq!(http_status(&d.addr, "GET", "/no/such/route"), Some(404));
    let seen = d.until("a STATUS line counting both requests", |l| {
        l.starts_with("STATUS=") && l.contains("2 requests served")
    });
    let status = seen
        .iter()
        .rev()
        .find(|l| l.starts_with("STATUS=") && l.contains("2 requests served"))
        .unwrap();
    // No account exists yet: the line leads with the pending setup, never with its token.
    assert!(status.starts_with("STATUS=SETUP PENDING: "), "{status}");
    assert!(status.contains("deckd setup-token"), "{status}");
    let token = std::fs::read_to_string(d.dir.path().join("data/setup-token")).unwrap();
    assert!(
        !status.contains(token.trim()),
        "the token stays out of STATUS"
    );
    for part in [
        "0 decks",
        "0 pending suggestions",
        "RSS ",
        "MiB",
        "disk ",
        "| no backup yet",
    ] {
        assert!(status.contains(part), "{part:?} missing from {status}");
    }

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    d.until("STOPPING=1 after SIGTERM", |l| l == "STOPPING=1");
    let status = d.child.wait().unwrap();
    assert!(
        status.success(),
        "deckd exits cleanly after SIGTERM: {status}"
    );
}

#[test]
fn no_watchdog_pings_unless_systemd_asks_for_them() {
    let mut d = Notified::spawn(&[]);
    d.until("READY=1", |l| l == "READY=1");
    // The monitor refreshes STATUS every second; three refreshes without a single WATCHDOG=1.
    let seen = (0..3)
        .flat_map(|_| d.until("a STATUS refresh", |l| l.starts_with("STATUS=")))
        .collect::<Vec<_>>();
    assert!(
        !seen.iter().any(|l| l == "WATCHDOG=1"),
        "WATCHDOG=1 without WATCHDOG_USEC: {seen:?}"
    );
}

#[test]
fn serve_as_root_without_allow_root_exits_with_a_clear_message() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not running as root: nothing to refuse here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = deckd_command()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("DECKD_ALLOW_ROOT")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "serve as root must fail; stderr: {stderr}"
    );
    assert!(
        stderr.contains("refusing to run as root") && stderr.contains("allow_root"),
        "unclear message: {stderr}"
    );
    assert!(
        !dir.path().join("deckd.sqlite3").exists(),
        "nothing is created before the refusal"
    );

    // Admin commands run as whoever calls them.
    let out = deckd_command()
        .args(["user", "list", "--data-dir"])
        .arg(dir.path())
        .env_remove("DECKD_ALLOW_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The body of `GET path` on `addr` (one HTTP/1.1 request, `Connection: close`).
fn http_body(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut all = String::new();
    s.read_to_string(&mut all).ok()?;
    all.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

/// Nobody runs `backup now`: the scheduler takes a verified backup by itself and STATUS says so.
#[test]
fn the_scheduler_backs_up_unattended_and_status_tells() {
    let mut d = Notified::spawn(&[("DECKD_MAINTENANCE_START_DELAY_SECS", "1")]);
    d.until("READY=1", |l| l == "READY=1");
    let seen = d.until("STATUS naming a fresh backup", |l| {
        l.starts_with("STATUS=") && l.contains("| last backup 0h ago")
    });
    assert!(
        !seen.iter().any(|l| l.contains("BACKUP FAILED")),
        "{seen:?}"
    );
    let data = d.dir.path().join("data");
    let out = deckd_command()
        .arg("--data-dir")
        .arg(&data)
        .args(["backup", "list"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        listing.lines().filter(|l| l.contains("verified")).count(),
        1,
        "one verified scheduled backup:\n{listing}"
    );
}

/// A backup that cannot run (here: the disk would be left too full) is an error in
/// STATUS and in /metrics, not a silent gap.
#[test]
fn a_failing_backup_shows_in_status_and_metrics() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut d = Notified::spawn(&[
        ("DECKD_MAINTENANCE_START_DELAY_SECS", "1"),
        ("DECKD_BACKUP_MIN_FREE_BYTES", "1000000000000000000"),
        ("DECKD_METRICS_LISTEN", &metrics),
    ]);
    d.until("READY=1", |l| l == "READY=1");
    let seen = d.until("STATUS reporting the failed backup", |l| {
        l.starts_with("STATUS=") && l.contains("| BACKUP FAILED: ")
    });
    let status = seen
        .iter()
        .rev()
        .find(|l| l.contains("BACKUP FAILED"))
        .unwrap();
    assert!(
        status.contains("free"),
        "the reason names the free space: {status}"
    );
    let start = Instant::now();
    loop {
        let body = http_body(&metrics, "/metrics").unwrap_or_default();
        if body.contains("deckd_backup_failing 1")
            && body.contains(r#"deckd_maintenance_failures_total{job="backup"} 1"#)
        {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "/metrics never reported the failed backup:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `GLIBC_TUNABLES` a running process was started with. glibc ends each value it
/// reads with a NUL in place, so in /proc the later tunables follow as entries of their own.
fn tunables_of(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let mut entries = environ
        .split(|&b| b == 0)
        .map(|kv| String::from_utf8_lossy(kv).into_owned())
        .skip_while(|kv| !kv.starts_with("GLIBC_TUNABLES="));
    let first = entries.next()?;
    let rest = entries.take_while(|kv| kv.starts_with("glibc."));
    Some(
        std::iter::once(first["GLIBC_TUNABLES=".len()..].to_string())
            .chain(rest)
            .collect::<Vec<_>>()
            .join(":"),
    )
}

#[test]
fn serve_turns_off_glibcs_thread_caches_in_the_same_process() {
    let mut d = Notified::spawn(&[]);
    d.until("READY=1", |l| l == "READY=1");
    // systemd tracks the process it started: the restart keeps the process id, so the
    // spawned child itself runs with the setting.
    assert_eq!(
        tunables_of(d.child.id()).as_deref(),
        Some("glibc.malloc.tcache_count=0")
    );
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", d.child.id())).unwrap();
    assert_eq!(comm.trim_end(), "deckd", "the process keeps its name");
    let cmdline = std::fs::read_to_string(format!("/proc/{}/cmdline", d.child.id())).unwrap();
    assert!(cmdline.contains(&d.addr), "arguments kept: {cmdline:?}");
    assert_eq!(http_status(&d.addr, "GET", "/readyz"), Some(200));
}

#[test]
fn tunables_already_set_are_kept() {
    for (given, want) in [
        (
            "glibc.malloc.check=0",
            "glibc.malloc.check=0:glibc.malloc.tcache_count=0",
        ),
        (
            "glibc.malloc.check=0:glibc.malloc.tcache_count=3",
            "glibc.malloc.check=0:glibc.malloc.tcache_count=3",
        ),
    ] {
        let mut d = Notified::spawn(&[("GLIBC_TUNABLES", given)]);
        d.until("READY=1", |l| l == "READY=1");
        assert_eq!(tunables_of(d.child.id()).as_deref(), Some(want), "{given}");
    }
}
