//! The real `deckd` binary as a child process, for tests that kill it, give it a small
//! file system of its own or measure its memory (`/proc/<pid>/status`), and the add-on's
//! requests against it over HTTP.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::{deckd_bin, deckd_command};
use crate::fixtures::{create_deck_envelope, password_for, sub_value, FIRST_PULL_TS};
use crate::media::{content_md5, listing, md5_hex};
use crate::server::{http_client, Resp};
use crate::wire::gzb64_encode_plugin;

/// Where the server keeps its data.
pub enum Place {
    /// A directory of the test's own file system.
    Dir(PathBuf),
    /// A fresh tmpfs of `size_mb` MiB mounted on `mount_point` in a mount namespace of
    /// the child's own; the test reaches it through `/proc/<pid>/root`.
    Tmpfs { mount_point: PathBuf, size_mb: u32 },
}

/// A running `deckd serve`.
pub struct Deckd {
    child: Child,
    base: String,
    /// The client the helpers send with (no proxy, generous timeout).
    pub http: reqwest::Client,
    /// The data directory as the child sees it.
    inner_dir: PathBuf,
    on_tmpfs: bool,
    /// Whether the child runs in a user namespace of its own (`unshare -r`).
    own_user_ns: bool,
    log: PathBuf,
    /// The directory [`Deckd::start_temp`] made, removed with the server.
    _temp: Option<tempfile::TempDir>,
}

/// Exit code of the start script when the tmpfs could not be mounted.
const MOUNT_FAILED: i32 = 97;

/// A port on 127.0.0.1 that was free a moment ago, for a listener the test cannot bind
/// itself (the spawned binary's, or one it reads from its configuration).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

impl Deckd {
    /// Starts a server on `place` with `users` created first (password [`password_for`]);
    /// `log` receives its stderr. Waits until `/readyz` answers 200.
    pub async fn start(place: &Place, users: &[&str], log: &Path) -> Deckd {
        Self::start_with(place, users, &[], log).await
    }

    /// A server in a temporary directory of its own with extra `env` settings; its log
    /// goes next to the data.
    pub async fn start_temp(env: &[(&str, &str)]) -> Deckd {
        let temp = tempfile::tempdir().expect("tempdir");
        let log = temp.path().join("deckd.log");
        let place = Place::Dir(temp.path().join("data"));
        let mut server = Self::start_with(&place, &[], env, &log).await;
        server._temp = Some(temp);
        server
    }

    /// [`Deckd::start`] with extra `DECKD_*` settings in `env`.
    pub async fn start_with(
        place: &Place,
        users: &[&str],
        env: &[(&str, &str)],
        log: &Path,
    ) -> Deckd {
        match place {
            Place::Dir(dir) => Self::spawn(dir, None, users, &[], env, log)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            Place::Tmpfs {
                mount_point,
                size_mb,
            } => {
                // As root a mount namespace is enough; otherwise a user namespace makes us
                // root in it (unshare -r). Either way the mount vanishes with the child.
                let mut attempts: Vec<&[&str]> = Vec::new();
                if is_root() {
                    attempts.push(&["-m"]);
                }
                attempts.push(&["-r", "-m"]);
                let mut why = Vec::new();
                for flags in attempts {
                    match Self::spawn(
                        &mount_point.join("data"),
                        Some((mount_point, *size_mb)),
                        users,
                        flags,
                        env,
                        log,
                    )
                    .await
                    {
                        Ok(d) => return d,
                        Err(e) => why.push(format!("unshare {}: {e}", flags.join(" "))),
                    }
                }
                panic!(
                    "this test needs a small tmpfs of its own and could not mount one (as root: `unshare -m` + `mount -t tmpfs`; \
                     as a normal user: `unshare -rm`, which needs unprivileged user namespaces, e.g. sysctl kernel.unprivileged_userns_clone=1):\n  {}",
                    why.join("\n  ")
                )
            }
        }
    }

    async fn spawn(
        dir: &Path,
        tmpfs: Option<(&PathBuf, u32)>,
        users: &[&str],
        flags: &[&str],
        env: &[(&str, &str)],
        log: &Path,
    ) -> Result<Deckd, String> {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let base = format!("http://{listen}");
        let bin = deckd_bin().display();
        let d = dir.display().to_string();
        let mut script = String::from("set -e\n");
        if let Some((mp, size)) = tmpfs {
            script += &format!("mount -t tmpfs -o size={size}m tmpfs '{}' || exit {MOUNT_FAILED}\nmkdir -p '{d}'\n", mp.display());
        }
        for u in users {
            script += &format!(
                "printf '%s\\n' '{}' | '{bin}' --data-dir '{d}' user add '{u}' >/dev/null\n",
                password_for(u)
            );
        }
        script +=
            &format!("exec '{bin}' serve --listen {listen} --data-dir '{d}' --public-url {base}\n");
        let mut cmd = if tmpfs.is_some() {
            let mut c = Command::new("unshare");
            c.args(flags).args(["sh", "-c", &script]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &script]);
            c
        };
        for (k, _) in std::env::vars() {
            if k.starts_with("DECKD_") {
                cmd.env_remove(k);
            }
        }
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        cmd.env("DECKD_ALLOW_ROOT", "1")
            .env("DECKD_LOGIN_RATE_PER_MINUTE", "100000")
            .env("DECKD_LOG_LEVEL", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(|e| format!("spawning: {e}"))?;
        let mut server = Deckd {
            child,
            base,
            http: http_client(),
            inner_dir: dir.to_path_buf(),
            on_tmpfs: tmpfs.is_some(),
            own_user_ns: flags.contains(&"-r"),
            log: log.to_path_buf(),
            _temp: None,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                let tail = self.log_tail();
                return Err(match st.code() {
                    Some(MOUNT_FAILED) => format!("mounting the tmpfs failed; log:\n{tail}"),
                    _ => format!("deckd exited before it was ready ({st}); log:\n{tail}"),
                });
            }
            if let Ok(r) = self
                .http
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                if r.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if start.elapsed() > Duration::from_secs(120) {
                let _ = self.child.kill();
                return Err(format!(
                    "deckd never answered /readyz with 200; log:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The last lines the server logged.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// The data directory as seen from the test (through the child's mount namespace on a tmpfs).
    pub fn data_dir(&self) -> PathBuf {
        if self.on_tmpfs {
            PathBuf::from(format!("/proc/{}/root", self.child.id()))
                .join(self.inner_dir.strip_prefix("/").unwrap())
        } else {
            self.inner_dir.clone()
        }
    }

    /// Runs `deckd --data-dir <dir> <args…>` where the server sees its data: inside the
    /// child's namespaces on a tmpfs (SQLite resolves `/proc/<pid>/root` back to our own
    /// file system, so the path from [`Deckd::data_dir`] cannot open the database).
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = if self.on_tmpfs {
            let mut c = Command::new("nsenter");
            c.args(["--target", &self.child.id().to_string(), "--mount"]);
            if self.own_user_ns {
                c.args(["--user", "--preserve-credentials"]);
            }
            c.arg(deckd_bin());
            c
        } else {
            Command::new(deckd_bin())
        };
        cmd.arg("--data-dir").arg(&self.inner_dir).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("DECKD_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("DECKD_ALLOW_ROOT", "1").stdin(Stdio::null());
        tokio::task::spawn_blocking(move || cmd.output().expect("spawning the deckd CLI"))
            .await
            .unwrap()
    }

    /// The server's process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

    /// The VmHWM (KiB) a test allows the server: the 64 MiB budget natively. Under an
    /// emulator (qemu-user in the aarch64 CI stage) the process's memory includes the
    /// emulator's own (about 44 MiB at idle), so there the server may grow by the 48 MiB a
    /// board has between deckd's idle budget (16 MiB) and its peak budget.
    pub fn memory_budget_kib(&self, idle_kib: u64) -> u64 {
        if self.emulated() {
            idle_kib + 48 * 1024
        } else {
            64 * 1024
        }
    }

    /// True when the server runs under an emulator (qemu-user), whose own memory, its
    /// translated code above all, is counted in the process's figures.
    pub fn emulated(&self) -> bool {
        std::fs::read_link(format!("/proc/{}/exe", self.child.id()))
            .unwrap_or_default()
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("qemu"))
    }

    /// Resets the server's VmHWM to its current VmRSS, so the next figure is one attack's peak.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").expect("reset VmHWM");
    }

    /// True while the server process has not exited.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Creates `name` (password [`password_for`]) through the real CLI while the server
    /// runs, and answers an access token.
    pub async fn user(&self, name: &str) -> String {
        assert!(
            !self.on_tmpfs,
            "user() needs the data directory in our own namespace"
        );
        let mut cli = deckd_command()
            .args(["user", "add", name, "--data-dir"])
            .arg(&self.inner_dir)
            .env("DECKD_ALLOW_ROOT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn deckd user add");
        cli.stdin
            .take()
            .unwrap()
            .write_all(format!("{}\n", password_for(name)).as_bytes())
            .unwrap();
        let done = tokio::task::spawn_blocking(move || cli.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(done.success(), "deckd user add {name} failed");
        self.login(name).await
    }

    // ------------------------------------------------------------------ requests

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a text body (a GZB64 upload) with a bearer token.
    pub async fn post_text(&self, path: &str, token: &str, body: String) -> Resp {
        self.send(
            self.post(path, Some(token))
                .header("Content-Type", "text/plain")
                .body(body),
        )
        .await
    }

    /// Sends a request; a transport error is answered as status 0 with the error as text.
    async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        match rb.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                let text = r.text().await.unwrap_or_default();
                Resp {
                    status,
                    text,
                    headers,
                }
            }
            Err(e) => Resp {
                status: 0,
                text: format!("{e:?}"),
                headers: Default::default(),
            },
        }
    }

    fn post(&self, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let rb = self.http.post(format!("{}{path}", self.base));
        match token {
            Some(t) => rb.header("Authorization", format!("Bearer {t}")),
            None => rb,
        }
    }

    /// POST `path` with a JSON body and an optional bearer token.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(self.post(path, token).json(body)).await
    }

    /// POST `path` with a GZB64 body built from `body` the way the plugin does.
    pub async fn post_gzb64(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(
            self.post(path, token)
                .header("Content-Type", "text/plain")
                .body(gzb64_encode_plugin(body)),
        )
        .await
    }

    /// POST /login as `user` with [`password_for`].
    pub async fn login_raw(&self, user: &str) -> Resp {
        self.post_json(
            "/login",
            None,
            &json!({"username": user, "password": password_for(user)}),
        )
        .await
    }

    /// Logs in as `user` and answers the access token.
    pub async fn login(&self, user: &str) -> String {
        let r = self.login_raw(user).await;
        r.expect(200, "login");
        r.json()["token"].as_str().unwrap().to_string()
    }

    /// POST /CheckUserToken with `token`.
    pub async fn check_token(&self, token: &str) -> Resp {
        self.send(self.post("/CheckUserToken", Some(token))).await
    }

    /// POST /createDeck with `deck` as the plugin sends it.
    pub async fn publish_raw(&self, token: &str, deck: &Value) -> Resp {
        self.post_gzb64("/createDeck", Some(token), &create_deck_envelope(deck))
            .await
    }

    /// POST /submitCard with a decoded body.
    pub async fn submit(&self, token: &str, body: &Value) -> Resp {
        self.post_gzb64("/submitCard", Some(token), body).await
    }

    /// POST /UploadDeckStats with one review history entry for `guid` of `hash`.
    pub async fn upload_stats(&self, token: &str, hash: &str, guid: &str) -> Resp {
        let body = json!({"deck_hash": hash, "review_history": {"Deck": {guid: {"retention": 90, "lapses": 1, "reps": 3}}}});
        self.post_gzb64("/UploadDeckStats", Some(token), &body)
            .await
    }

    /// A full pull of `hash`; `None` when the server did not answer 200.
    pub async fn pull_all(&self, hash: &str) -> Option<Value> {
        let r = self
            .post_json(
                "/pullChanges",
                None,
                &json!({ hash: sub_value(FIRST_PULL_TS) }),
            )
            .await;
        (r.status == 200).then(|| r.gzb64())
    }

    /// POST /media/check/bulk listing `files` as `(name, note guid, bytes)`.
    pub async fn media_check(
        &self,
        token: &str,
        deck: &str,
        files: &[(&str, &str, &[u8])],
    ) -> Resp {
        let listed: Vec<Value> = files.iter().map(|(n, g, b)| listing(n, g, b)).collect();
        self.post_json(
            "/media/check/bulk",
            Some(token),
            &json!({"deck_hash": deck, "files": listed, "bulk_operation_id": ""}),
        )
        .await
    }

    /// PUT `bytes` to an absolute upload URL with their `Content-MD5`.
    pub async fn media_put(&self, url: &str, bytes: &[u8]) -> Resp {
        let rb = self
            .http
            .put(url)
            .header("Content-Type", "application/octet-stream")
            .header("Content-MD5", content_md5(bytes))
            .body(bytes.to_vec());
        self.send(rb).await
    }

    /// POST /media/confirm/bulk for the uploaded `hashes` of `batch`.
    pub async fn media_confirm(&self, token: &str, batch: &str, hashes: &[String]) -> Resp {
        self.post_json(
            "/media/confirm/bulk",
            Some(token),
            &json!({"batch_id": batch, "confirmed_files": hashes, "bulk_operation_id": ""}),
        )
        .await
    }

    /// Downloads `name` of `deck` through the manifest; `Err` says which step failed.
    pub async fn download(&self, token: &str, deck: &str, name: &str) -> Result<Vec<u8>, String> {
        let m = self
            .post_json(
                "/media/manifest",
                Some(token),
                &json!({"deck_hash": deck, "filenames": [name]}),
            )
            .await;
        if m.status != 200 {
            return Err(format!("manifest answered {} {}", m.status, m.text));
        }
        let Some(url) = m.json()["files"][0]["download_url"]
            .as_str()
            .map(str::to_string)
        else {
            return Err(format!("manifest lists no {name}: {}", m.text));
        };
        let r = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await.map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!(
                "GET download_url answered {status} {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        Ok(bytes.to_vec())
    }

    /// Check, PUT and confirm one file for `guid` of `deck`; answers the first failing response.
    pub async fn upload_media(
        &self,
        token: &str,
        deck: &str,
        name: &str,
        guid: &str,
        bytes: &[u8],
    ) -> Result<(), Resp> {
        let check = self.media_check(token, deck, &[(name, guid, bytes)]).await;
        if check.status != 200 {
            return Err(check);
        }
        let v = check.json();
        let mut done = Vec::new();
        for m in v["missing_files"].as_array().unwrap() {
            let put = self
                .media_put(m["upload_url"].as_str().unwrap(), bytes)
                .await;
            if !(200..300).contains(&put.status) {
                return Err(put);
            }
            done.push(md5_hex(bytes));
        }
        if let Some(batch) = v["batch_id"].as_str() {
            let c = self.media_confirm(token, batch, &done).await;
            if c.status != 200 {
                return Err(c);
            }
        }
        Ok(())
    }
}

impl Drop for Deckd {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Writes up to `limit` bytes of zeros to a new `path`, stopping early when the file
/// system says it is full; answers the bytes written.
pub fn fill(path: &Path, limit: u64) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    let mut size = chunk.len();
    while size > 0 && written < limit {
        let want = size.min((limit - written) as usize);
        match f.write(&chunk[..want]) {
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => size /= 2,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let _ = f.sync_all();
    written
}

/// `PRAGMA integrity_check` of the database in `data_dir` (quiet while this runs), on a
/// copy of the file and its WAL: SQLite resolves `/proc/<pid>/root` to our own root, so
/// a database inside the child's mount namespace cannot be opened in place.
pub async fn integrity(data_dir: &Path) -> String {
    use sqlx::ConnectOptions;
    let copy = tempfile::tempdir().unwrap();
    for suffix in ["", "-wal"] {
        let from = data_dir.join(format!("deckd.sqlite3{suffix}"));
        if from.exists() {
            std::fs::copy(&from, copy.path().join(format!("deckd.sqlite3{suffix}"))).unwrap();
        }
    }
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(copy.path().join("deckd.sqlite3"))
        .connect()
        .await
        .expect("open the copied database");
    sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity_check")
}
