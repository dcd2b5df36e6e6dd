//! The deckd binary as a command-line tool: where it is, how to run it without the test
//! process's `DECKD_*` settings, and [`TestServer`]'s CLI calls on its data directory.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::server::TestServer;

/// What a run of the deckd CLI printed and how it ended.
#[derive(Debug)]
pub struct CliOut {
    /// The exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// The arguments it ran with.
    pub args: Vec<String>,
}

impl CliOut {
    /// True when it exited with 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
    /// Asserts it exited with 0, printing its output when not.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            self.ok(),
            "`deckd {}` failed with {:?}\nstdout: {}\nstderr: {}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }
    /// Asserts it did not exit with 0.
    #[track_caller]
    pub fn assert_fail(&self) -> &Self {
        assert!(
            !self.ok(),
            "`deckd {}` unexpectedly succeeded\nstdout: {}\nstderr: {}",
            self.args.join(" "),
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The deckd binary of the build the running test belongs to. Cargo puts a test
/// executable in `target/[<triple>/]<profile>/deps/` and the package's binaries one level
/// up, in `<profile>/`; `cargo test` builds the binary before it runs integration tests.
pub(crate) fn deckd_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the path of the running test executable");
        let mut dir = exe
            .parent()
            .expect("the test executable's directory")
            .to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let bin = dir.join(format!("deckd{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.is_file(),
            "no deckd binary at {} (beside the deps/ directory of {}); `cargo test` builds \
             it before the integration tests",
            bin.display(),
            exe.display()
        );
        bin
    })
}

/// The deckd binary as a command whose environment holds none of the test process's
/// `DECKD_*` variables: test knobs such as `DECKD_FUZZ_SEED` are not server settings, and
/// the server refuses variables it does not know.
pub fn deckd_command() -> Command {
    let mut cmd = Command::new(deckd_bin());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DECKD_")) {
        cmd.env_remove(k);
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs the deckd binary (blocking). `DECKD_*` variables of the test process are
/// removed; `envs` are added. `stdin` (if any) is written and then closed.
pub fn run_cli_blocking(
    args: &[String],
    stdin: Option<&str>,
    envs: &[(String, String)],
    cwd: &Path,
) -> CliOut {
    let mut cmd = deckd_command();
    cmd.args(args).current_dir(cwd);
    // Tests run as root in CI; `serve` refuses root unless told otherwise.
    if args.iter().any(|a| a == "serve") {
        cmd.env("DECKD_ALLOW_ROOT", "1");
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn deckd binary");
    if let Some(input) = stdin {
        let mut si = child.stdin.take().unwrap();
        // The CLI may exit before reading everything; ignore broken pipes.
        let _ = si.write_all(input.as_bytes());
        drop(si);
    }
    let out = wait_with_timeout(child, Duration::from_secs(120));
    CliOut {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        args: args.to_vec(),
    }
}

fn wait_with_timeout(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    // Read pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t2 = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    std::process::Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// [`run_cli_blocking`] on tokio's blocking pool.
pub async fn run_cli(
    args: Vec<String>,
    stdin: Option<String>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
) -> CliOut {
    tokio::task::spawn_blocking(move || run_cli_blocking(&args, stdin.as_deref(), &envs, &cwd))
        .await
        .unwrap()
}

/// The CLI on a [`TestServer`]'s data directory, while the server runs.
impl TestServer {
    /// Runs `deckd --data-dir <dir> <args…>`.
    pub async fn cli(&self, args: &[&str]) -> CliOut {
        self.cli_stdin(args, None).await
    }

    /// [`cli`](Self::cli) with `stdin` written to the command and then closed.
    pub async fn cli_stdin(&self, args: &[&str], stdin: Option<&str>) -> CliOut {
        let mut full = vec![
            "--data-dir".to_string(),
            self.data_dir().display().to_string(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        run_cli(
            full,
            stdin.map(|s| s.to_string()),
            vec![],
            self.data_dir().to_path_buf(),
        )
        .await
    }

    /// Runs the CLI with exactly `args` (no implicit --data-dir) and extra env vars.
    pub async fn cli_raw(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        envs: &[(&str, &str)],
    ) -> CliOut {
        run_cli(
            args.iter().map(|s| s.to_string()).collect(),
            stdin.map(|s| s.to_string()),
            envs.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            self.data_dir().to_path_buf(),
        )
        .await
    }

    /// `deckd user add NAME` with the password on stdin.
    pub async fn cli_user_add(&self, name: &str, password: &str) -> CliOut {
        self.cli_stdin(&["user", "add", name], Some(&format!("{password}\n")))
            .await
    }

    /// `review list --json [--deck HASH]`, parsed.
    pub async fn pending(&self, deck: Option<&str>) -> Vec<Value> {
        let mut args = vec!["review", "list", "--json"];
        if let Some(d) = deck {
            args.push("--deck");
            args.push(d);
        }
        let out = self.cli(&args).await;
        out.assert_ok();
        let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
            panic!("`review list --json` printed no JSON ({e}): {}", out.stdout)
        });
        v.as_array()
            .unwrap_or_else(|| panic!("`review list --json` must print an array: {v}"))
            .clone()
    }

    /// `review approve ID`; asserts it succeeds.
    pub async fn approve(&self, id: deckd::store::CommitId) {
        self.cli(&["review", "approve", &id.to_string()])
            .await
            .assert_ok();
    }

    /// `review deny ID [--reason R]`; asserts it succeeds.
    pub async fn deny(&self, id: deckd::store::CommitId, reason: Option<&str>) {
        let ids = id.to_string();
        let mut args = vec!["review", "deny", ids.as_str()];
        if let Some(r) = reason {
            args.push("--reason");
            args.push(r);
        }
        self.cli(&args).await.assert_ok();
    }

    /// The single pending commit of `deck` (asserts there is exactly one).
    pub async fn only_pending(&self, deck: &str) -> Value {
        let p = self.pending(Some(deck)).await;
        assert_eq!(
            p.len(),
            1,
            "expected exactly one pending commit for {deck}, got {p:?}"
        );
        p[0].clone()
    }
}
