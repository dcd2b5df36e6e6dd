//! The in-process server: [`TestServer`] runs `deckd::launch` on a thread of its own
//! over a fresh data directory, with helpers for the add-on's requests (accounts,
//! publishing, suggestions, pulls), and [`Resp`], an answer read in full.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::fixtures::{
    create_deck_envelope, password_for, root_deck, sub_value, submit_body, tiny_deck,
};
use crate::wire::{gzb64_decode, gzb64_encode_plugin, preview};

/// An HTTP answer read in full.
#[derive(Debug)]
pub struct Resp {
    /// The status code (0 when the spawned server's request failed in transport).
    pub status: u16,
    /// The body as text.
    pub text: String,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The body as JSON; panics when it is not.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "expected a JSON body (status {}): {e}: {}",
                self.status,
                preview(&self.text)
            )
        })
    }
    /// Decodes a GZB64 body (the /pullChanges answer).
    #[track_caller]
    pub fn gzb64(&self) -> Value {
        gzb64_decode(&self.text)
    }
    /// Asserts the status is `status`; `what` names the request in the message.
    #[track_caller]
    pub fn expect(&self, status: u16, what: &str) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{what}: unexpected status, body: {}",
            preview(&self.text)
        );
        self
    }
    /// Asserts the status is a 4xx; `what` names the request in the message.
    #[track_caller]
    pub fn expect_4xx(&self, what: &str) -> &Self {
        assert!(
            (400..500).contains(&self.status),
            "{what}: expected a 4xx status, got {} with body: {}",
            self.status,
            preview(&self.text)
        );
        self
    }
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    }
}

/// A request body for [`TestServer::request`].
#[derive(Debug)]
pub enum Body {
    /// No body.
    None,
    /// JSON, sent as `application/json`.
    Json(Value),
    /// GZB64 or other text, sent as `text/plain`.
    Text(String),
    /// Raw bytes with a content type.
    Raw(&'static str, Vec<u8>),
}

impl Body {
    /// Sets the request's body and its Content-Type.
    fn apply(self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Body::None => rb,
            Body::Json(v) => rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&v).unwrap()),
            Body::Text(s) => rb.header("Content-Type", "text/plain").body(s),
            Body::Raw(ct, b) => rb.header("Content-Type", ct).body(b),
        }
    }
}

/// A deckd server running in this process on 127.0.0.1 (see the crate docs).
pub struct TestServer {
    config: deckd::Config,
    addr: SocketAddr,
    base: String,
    /// The client the helpers send with (no proxy, generous timeout).
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<std::sync::mpsc::Receiver<Result<(), String>>>,
    // Declared last so it is removed after the server was asked to stop.
    dir: tempfile::TempDir,
}

/// An HTTP client that ignores proxy settings and waits up to 180 s for an answer.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(180))
        .build()
        .unwrap()
}

impl TestServer {
    /// Starts a server with test defaults (a large login rate limit).
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts a server; `tweak` adjusts the config after the test defaults are set.
    pub async fn start_with(tweak: impl Fn(&mut deckd::Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let make = || {
            let mut c = deckd::Config::for_data_dir(dir.path());
            c.public_url = Some(base.parse().expect("a URL"));
            c.login_rate_per_minute = 1_000_000;
            tweak(&mut c);
            c
        };
        let server_cfg = make();
        let config = make();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("deckd-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .unwrap();
                let res = rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                    deckd::launch(server_cfg, listener, async move {
                        let _ = rx.await;
                    })
                    .await
                });
                let res = res.map_err(|e| format!("{e:#}"));
                if let Err(e) = &res {
                    eprintln!("deckd::launch returned an error: {e}");
                }
                let _ = done_tx.send(res);
                rt.shutdown_timeout(Duration::from_secs(5));
            })
            .unwrap();
        let server = TestServer {
            config,
            addr,
            base,
            http: http_client(),
            shutdown: Some(tx),
            done: Some(done_rx),
            dir,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let start = std::time::Instant::now();
        loop {
            if let Some(done) = &self.done {
                match done.try_recv() {
                    Ok(r) => panic!("deckd::launch ended before becoming ready: {r:?}"),
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        panic!("deckd server thread died before becoming ready")
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => {}
                }
            }
            if let Ok(r) = self
                .http
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "server never answered /readyz with 200"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Asks the server to stop and waits (bounded) for `launch` to return.
    pub fn stop(&mut self) -> Option<Result<(), String>> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.done
            .take()
            .and_then(|d| d.recv_timeout(Duration::from_secs(15)).ok())
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base
    }
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The configuration the server runs with.
    pub fn config(&self) -> &deckd::Config {
        &self.config
    }
    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    // ------------------------------------------------------------------ raw HTTP

    /// Sends a request with an optional bearer token; panics on a transport error.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Resp {
        self.try_request(method, path, token, body)
            .await
            .unwrap_or_else(|e| panic!("request {path} failed: {e}"))
    }

    /// Like [`request`](Self::request) but transport errors (e.g. the server closed
    /// the connection before answering) are returned instead of panicking.
    pub async fn try_request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> Result<Resp, String> {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.header("Authorization", format!("Bearer {t}"));
        }
        rb = body.apply(rb);
        let r = rb.send().await.map_err(|e| format!("{e:?}"))?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.map_err(|e| format!("reading body: {e:?}"))?;
        Ok(Resp {
            status,
            text,
            headers,
        })
    }

    /// Sends a request with an arbitrary Authorization header value (or none).
    pub async fn request_auth_header(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Option<&str>,
        body: Body,
    ) -> Resp {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(a) = auth {
            rb = rb.header("Authorization", a);
        }
        rb = body.apply(rb);
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {path} failed: {e}"));
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Resp {
            status,
            text,
            headers,
        }
    }

    /// GET `path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::GET, path, token, Body::None)
            .await
    }
    /// POST `path` without a body.
    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(reqwest::Method::POST, path, token, Body::None)
            .await
    }
    /// POST `path` with a JSON body.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(reqwest::Method::POST, path, token, Body::Json(body.clone()))
            .await
    }
    /// POST `path` with a `text/plain` body.
    pub async fn post_text(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<String>,
    ) -> Resp {
        self.request(reqwest::Method::POST, path, token, Body::Text(body.into()))
            .await
    }
    /// POST with a GZB64 body built from `v` the way the plugin does.
    pub async fn post_gzb64(&self, path: &str, token: Option<&str>, v: &Value) -> Resp {
        self.post_text(path, token, gzb64_encode_plugin(v)).await
    }

    // ------------------------------------------------------------------ accounts

    /// Creates user `name` directly in the database (as the box's administrator); answers its id.
    pub async fn create_user(&self, name: &str, password: &str) -> deckd::store::UserId {
        let db = deckd::store::Db::open(&self.config).await.unwrap();
        let created =
            deckd::domain::users::create(&db, deckd::domain::Actor::Admin, name, password).await;
        db.close().await;
        created
            .unwrap_or_else(|e| panic!("create_user({name}) failed: {e:#}"))
            .id
    }

    /// POST /login with `name` and `password`.
    pub async fn login_raw(&self, name: &str, password: &str) -> Resp {
        self.post_json(
            "/login",
            None,
            &json!({"username": name, "password": password}),
        )
        .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, name: &str, password: &str) -> String {
        let r = self.login_raw(name, password).await;
        r.expect(200, &format!("login as {name}"));
        r.json()["token"]
            .as_str()
            .expect("token in login answer")
            .to_string()
    }

    /// Creates `name` with [`password_for`] and returns an access token.
    pub async fn user(&self, name: &str) -> String {
        self.create_user(name, &password_for(name)).await;
        self.login(name, &password_for(name)).await
    }

    // ------------------------------------------------------------------ decks

    /// POST /createDeck with `deck` as the plugin sends it.
    pub async fn publish_raw(&self, token: &str, deck: &Value) -> Resp {
        self.post_gzb64("/createDeck", Some(token), &create_deck_envelope(deck))
            .await
    }

    /// Publishes `deck` and returns its hash (asserts `status == 1`).
    pub async fn publish(&self, token: &str, deck: &Value) -> String {
        let r = self.publish_raw(token, deck).await;
        r.expect(200, "/createDeck");
        let v = r.json();
        assert_eq!(v["status"], 1, "/createDeck answered {v}");
        v["message"].as_str().expect("hash in message").to_string()
    }

    /// Publishes the §9.3 deck as `token`'s user; returns the hash.
    pub async fn publish_demo(&self, token: &str) -> String {
        self.publish(token, &tiny_deck()).await
    }

    /// POST /submitCard with a decoded body (see [`submit_body`]).
    pub async fn submit(&self, token: &str, body: &Value) -> Resp {
        self.post_gzb64("/submitCard", Some(token), body).await
    }

    /// Suggests `notes` for the root deck `root_name` of `hash` (deck_path = new_name =
    /// root_name) with `commit_text`, for review (rationale 2).
    pub async fn suggest(
        &self,
        token: &str,
        hash: &str,
        root_name: &str,
        root_uuid: &str,
        notes: Vec<Value>,
        commit_text: &str,
    ) -> Resp {
        let deck = root_deck(root_name, root_uuid, "", notes, vec![]);
        let body = submit_body(hash, root_name, root_name, &deck, 2, commit_text, false);
        self.submit(token, &body).await
    }

    /// [`suggest`](Self::suggest) as a direct edit: `force_overwrite`, rationale 10 and
    /// no commit text.
    pub async fn suggest_forced(
        &self,
        token: &str,
        hash: &str,
        root_name: &str,
        root_uuid: &str,
        notes: Vec<Value>,
    ) -> Resp {
        let deck = root_deck(root_name, root_uuid, "", notes, vec![]);
        let body = submit_body(hash, root_name, root_name, &deck, 10, "", true);
        self.submit(token, &body).await
    }

    // ------------------------------------------------------------------ pulls

    /// POST /pullChanges with `map` (hash → subscription value).
    pub async fn pull_raw(&self, map: &Value) -> Resp {
        self.post_json("/pullChanges", None, map).await
    }

    /// POST /pullChanges with `map` (hash → subscription value); asserts 200 and decodes.
    pub async fn pull(&self, map: &Value) -> Value {
        let r = self.pull_raw(map).await;
        r.expect(200, "/pullChanges");
        let v = r.gzb64();
        assert!(v.is_array(), "/pullChanges must answer an array, got {v}");
        v
    }

    /// Pulls one deck from `ts`.
    pub async fn pull_since(&self, hash: &str, ts: &str) -> Value {
        self.pull(&json!({ hash: sub_value(ts) })).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.recv_timeout(Duration::from_secs(10));
        }
    }
}
