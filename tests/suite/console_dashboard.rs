//! The administrator's box dashboard (`/console/admin/box`) over real HTTP: every
//! section, who may see it, "Back up now" in the background, the charts as SVG with
//! their warning lines, and the last restart's reason across a clean stop and a kill -9
//! of the real binary.

use std::time::{Duration, Instant};

use deckd_testkit as common;

use common::console::{csrf_of, location, Console};
use common::spawned::{Deckd, Place};
use common::*;
use quick_xml::events::Event;

const PAGE: &str = "/console/admin/box";

/// A server sampling every second, so the first readings arrive quickly.
async fn server() -> TestServer {
    TestServer::start_with(|c| c.monitor_interval_secs = Duration::from_secs(1)).await
}

/// `name` as a signed-in administrator of `s`.
async fn admin<'a>(s: &'a TestServer, name: &str) -> Console<'a> {
    s.create_user(name, &format!("{name}-password")).await;
    s.cli(&["user", "admin", name, "on"]).await.assert_ok();
    let mut c = Console::new(s);
    c.sign_in(name, &format!("{name}-password"))
        .await
        .expect(303, "sign-in");
    c
}

/// Fetches the dashboard until `done` holds, for at most `limit`.
async fn page_until(
    c: &mut Console<'_>,
    limit: Duration,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    loop {
        let page = c.get(PAGE).await;
        page.expect(200, PAGE);
        if done(&page.text) {
            return page.text;
        }
        assert!(
            start.elapsed() < limit,
            "{what} never showed on the dashboard:\n{}",
            page.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of the table row marked `data-<attr>="<value>"`.
fn row<'p>(page: &'p str, attr: &str, value: &str) -> &'p str {
    let marker = format!("data-{attr}=\"{value}\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no row {marker}:\n{page}"));
    let rest = &page[at..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[tokio::test]
async fn the_administrator_sees_every_section() {
    let s = server().await;
    let mut boss = admin(&s, "boss").await;
    let users = boss.get("/console/admin/users").await;
    assert!(
        users.text.contains("href=\"/console/admin/box\""),
        "the console links the dashboard for administrators"
    );
    // The monitor's first sample reaches the page and the memory chart.
    let page = page_until(
        &mut boss,
        Duration::from_secs(60),
        "a memory reading",
        |p| {
            p.contains("data-reading=\"memory\"")
                && !row(p, "reading", "memory").contains("not available")
        },
    )
    .await;
    for section in [
        "id=\"about\"",
        "id=\"resources\"",
        "id=\"charts\"",
        "id=\"requests\"",
        "id=\"backups\"",
        "id=\"media\"",
        "id=\"restart\"",
    ] {
        assert!(page.contains(section), "{section} missing:\n{page}");
    }
    assert!(page.contains(&format!("deckd {}", env!("CARGO_PKG_VERSION"))));
    assert!(page.contains(">first start<"), "a fresh data directory");
    for metric in ["cpu", "memory", "disk", "temperature", "pressure"] {
        row(&page, "reading", metric);
        assert!(
            page.contains(&format!("/console/admin/box/chart/{metric}.svg")),
            "{metric} chart"
        );
    }
    assert!(page.contains("/console/admin/box/chart/requests.svg"));
    assert!(page.contains("over 500 ms"), "the slow threshold is stated");
    assert!(page.contains("Back up now"));
    assert!(page.contains("No backups yet."));
    assert!(row(&page, "media", "boss").contains("0 bytes"));
    assert!(page.contains("10.0 GiB"), "the quota is stated");
    assert!(page.len() < 50_000, "{} bytes", page.len());
    let memory = boss.get("/console/admin/box/chart/memory.svg").await;
    assert!(
        memory.text.contains("<circle"),
        "the sampled reading is plotted: {}",
        memory.text
    );
    // The dashboard's own requests were counted.
    let page = boss.get(PAGE).await;
    let counted: u64 = page.text[page.text.find("<section id=\"requests\"").unwrap()..]
        .split("<strong>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .and_then(|n| n.parse().ok())
        .expect("a request count");
    assert!(counted >= 3, "{counted} requests counted");
}

#[tokio::test]
async fn only_administrators_see_the_dashboard() {
    let s = server().await;
    let mut anonymous = Console::new(&s);
    for path in [PAGE, "/console/admin/box/chart/cpu.svg"] {
        let r = anonymous.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(location(&r).starts_with("/console/login?next="), "{path}");
    }
    let r = anonymous
        .post("/console/admin/box/backup", &[("csrf", "x")])
        .await;
    assert_eq!(r.status, 303);
    assert!(location(&r).starts_with("/console/login"));

    let mut alice = Console::signed_in(&s, "alice").await;
    let home = alice.get("/console/account").await;
    assert!(
        !home.text.contains("/console/admin/box"),
        "no link for others"
    );
    alice.get(PAGE).await.expect(403, "a user's dashboard");
    alice
        .get("/console/admin/box/chart/cpu.svg")
        .await
        .expect(403, "a user's chart");
    let token = csrf_of(&home.text);
    alice
        .post("/console/admin/box/backup", &[("csrf", &token)])
        .await
        .expect(403, "a user's backup");
    assert!(
        !s.data_dir().join("backups").exists(),
        "nothing was backed up"
    );
}

#[tokio::test]
async fn back_up_now_runs_in_the_background_and_the_page_lists_it() {
    let s = server().await;
    let mut boss = admin(&s, "boss").await;
    boss.post("/console/admin/box/backup", &[])
        .await
        .expect(403, "no CSRF token");
    boss.post("/console/admin/box/backup", &[("csrf", "forged")])
        .await
        .expect(403, "a wrong CSRF token");
    let token = boss.csrf(PAGE).await;
    let cross = boss
        .post_with(
            "/console/admin/box/backup",
            &[("Sec-Fetch-Site", "cross-site")],
            &[("csrf", &token)],
        )
        .await;
    cross.expect(403, "another site's form");
    assert!(!s.data_dir().join("backups").exists(), "nothing started");

    let started = boss.submit(PAGE, "/console/admin/box/backup", &[]).await;
    assert_eq!(
        (started.status, location(&started).as_str()),
        (303, "/console/admin/box?backup=started")
    );
    let page = page_until(
        &mut boss,
        Duration::from_secs(120),
        "a verified backup",
        |p| p.contains("data-backup=") && p.contains("id=\"backup-last\""),
    )
    .await;
    let listed = &page[page.find("data-backup=").unwrap()..];
    let listed = &listed[..listed.find("</tr>").unwrap()];
    assert!(listed.contains("<td>yes</td>"), "verified: {listed}");
    assert!(
        page.contains("id=\"backup-last\"") && page.contains("<span class=\"pill\">ok</span>"),
        "{page}"
    );
    assert!(!page.contains("id=\"backup-failure\""), "{page}");
    assert!(
        page.contains("Back up now"),
        "the button is back once it finished"
    );
    let on_disk = s.cli(&["backup", "list"]).await;
    on_disk.assert_ok();
    assert!(on_disk.stdout.contains("yes"), "{}", on_disk.stdout);
}

/// Checks `svg` is one well-formed `<svg>` document without `style=` attributes, and
/// answers the text of its `<text>` elements and the `points` of its `<polyline>`s drawn
/// in `stroke`.
fn parse_svg(svg: &str, stroke: &str) -> (Vec<String>, Vec<String>) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut depth, mut roots) = (0usize, Vec::new());
    let (mut texts, mut lines) = (Vec::new(), Vec::new());
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed SVG ({e}):\n{svg}"));
        let (e, opens) = match &event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::Text(t) => {
                let text = t.decode().unwrap().trim().to_string();
                if !text.is_empty() {
                    texts.push(text);
                }
                continue;
            }
            Event::End(_) => {
                depth -= 1;
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        if depth == 0 {
            roots.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
        }
        let mut attrs = std::collections::HashMap::new();
        for a in e.attributes() {
            let a = a.unwrap_or_else(|err| panic!("bad attribute ({err}):\n{svg}"));
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            attrs.insert(key, a.unescape_value().unwrap().into_owned());
        }
        assert!(
            !attrs.contains_key("style"),
            "the CSP forbids style=: {svg}"
        );
        if e.name().as_ref() == b"polyline"
            && attrs.get("stroke").map(String::as_str) == Some(stroke)
        {
            lines.push(attrs["points"].clone());
        }
        if opens {
            depth += 1;
        }
    }
    assert_eq!((depth, roots), (0, vec!["svg".to_string()]), "{svg}");
    (texts, lines)
}

#[tokio::test]
async fn charts_are_well_formed_svg_with_their_warning_line() {
    let s = server().await;
    let mut boss = admin(&s, "boss").await;
    let c = s.config();
    for (metric, label) in [
        ("cpu", format!("warning at {} %", c.cpu_warn_percent)),
        ("memory", format!("warning at {} %", c.memory_warn_percent)),
        ("disk", format!("warning at {} %", c.disk_warn_percent)),
        (
            "temperature",
            format!("warning at {} °C", c.temperature_warn_celsius),
        ),
        (
            "pressure",
            format!("warning at {} %", c.memory_pressure_warn_percent),
        ),
    ] {
        let path = format!("/console/admin/box/chart/{metric}.svg");
        let r = boss.get(&path).await;
        r.expect(200, &path);
        assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
        let (texts, warning_lines) = parse_svg(&r.text, "#B3261E");
        assert!(texts.contains(&label), "{path}: no {label:?} in {texts:?}");
        assert_eq!(warning_lines.len(), 1, "{path}: one warning line");
        let ys: std::collections::BTreeSet<&str> = warning_lines[0]
            .split_whitespace()
            .map(|p| p.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(ys.len(), 1, "{path}: the warning line is horizontal");
    }
    let requests = boss.get("/console/admin/box/chart/requests.svg").await;
    requests.expect(200, "the requests chart");
    let (texts, warning_lines) = parse_svg(&requests.text, "#B3261E");
    assert!(
        texts.iter().any(|t| t == "Requests per minute"),
        "{texts:?}"
    );
    assert!(warning_lines.is_empty(), "requests have no threshold");
    boss.get("/console/admin/box/chart/nothing.svg")
        .await
        .expect(404, "an unknown chart");
    boss.get("/console/admin/box/chart/cpu")
        .await
        .expect(404, "a chart without .svg");
}

/// Signs `name` (password [`password_for`]) in to a spawned server's console and answers
/// the dashboard's "Last restart" text.
async fn restart_reason(d: &Deckd, name: &str) -> String {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed = http
        .post(d.url("/console/login"))
        .form(&[("username", name), ("password", &password_for(name))])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 303, "sign-in");
    let cookie = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("deckd_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a session cookie");
    let page = http
        .get(d.url(PAGE))
        .header("Cookie", format!("deckd_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let text = page.text().await.unwrap();
    let at = text.find("id=\"restart\">").expect("the restart reason") + "id=\"restart\">".len();
    text[at..at + text[at..].find('<').unwrap()].to_string()
}

/// Sends SIGTERM and waits (bounded) for the server to exit.
async fn stop_cleanly(d: &mut Deckd) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.pid()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let start = Instant::now();
    while d.alive() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "deckd did not stop after SIGTERM:\n{}",
            d.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_last_restart_tells_a_clean_stop_a_kill_and_an_upgrade_apart() {
    let dir = tempfile::tempdir().unwrap();
    let place = Place::Dir(dir.path().join("data"));
    let log = dir.path().join("deckd.log");
    let mut d = Deckd::start(&place, &["boss"], &log).await;
    let made = d.cli(&["user", "admin", "boss", "on"]).await;
    assert!(made.status.success(), "{made:?}");
    assert_eq!(restart_reason(&d, "boss").await, "first start");

    stop_cleanly(&mut d).await;
    let mut d = Deckd::start(&place, &[], &log).await;
    assert_eq!(restart_reason(&d, "boss").await, "clean stop and start");

    d.kill9();
    let mut d = Deckd::start(&place, &[], &log).await;
    assert_eq!(
        restart_reason(&d, "boss").await,
        "killed (crash, watchdog or power loss)"
    );

    // An older version stopped cleanly here before this one started.
    stop_cleanly(&mut d).await;
    let state = dir.path().join("data").join("run-state");
    let recorded = std::fs::read_to_string(&state).unwrap();
    assert_eq!(recorded, format!("stopped {}\n", env!("CARGO_PKG_VERSION")));
    std::fs::write(&state, "stopped 0.0.1\n").unwrap();
    let d = Deckd::start(&place, &[], &log).await;
    assert_eq!(restart_reason(&d, "boss").await, "upgrade from 0.0.1");
}
