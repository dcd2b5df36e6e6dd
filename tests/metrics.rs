//! The Prometheus `/metrics` endpoint: off by default, on a loopback-only listener of
//! its own when `metrics_listen` is set, counting requests by route and status.
use deckd_testkit as common;

use std::time::{Duration, Instant};

use common::spawned::free_port;
use common::*;

#[tokio::test]
async fn metrics_are_off_by_default() {
    assert_eq!(deckd::Config::default().metrics_listen, None);
    let s = TestServer::start().await;
    s.get("/metrics", None)
        .await
        .expect(404, "no /metrics on the API listener");
}

#[tokio::test]
async fn metrics_listener_counts_requests_and_shows_resources() {
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let s = TestServer::start_with(|c| {
        c.metrics_listen = Some(addr);
        c.monitor_interval_secs = Duration::from_secs(1);
        c.maintenance_interval_secs = Duration::from_secs(1);
    })
    .await;
    s.get("/healthz", None).await.expect(200, "/healthz");
    s.post_empty("/CheckUserToken", Some("nope"))
        .await
        .expect(200, "/CheckUserToken");
    s.get("/GetDeckTimestamp/not-a-deck", None).await;
    let http = http_client();
    let start = Instant::now();
    let body = loop {
        let r = http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("the metrics listener answers");
        assert_eq!(r.status().as_u16(), 200);
        let body = r.text().await.unwrap();
        if body.contains("deckd_process_resident_memory_bytes")
            && body.contains(r#"deckd_maintenance_runs_total{job="compact"}"#)
        {
            break body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no resource gauges ever appeared:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for want in [
        r#"deckd_http_requests_total{route="/healthz",status="200"}"#,
        r#"deckd_http_requests_total{route="/CheckUserToken",status="200"}"#,
        r#"route="/GetDeckTimestamp/{hash}""#,
        "deckd_disk_used_percent",
        "deckd_memory_pressure 0",
        "deckd_backup_failing 0",
        r#"deckd_maintenance_failures_total{job="compact"} 0"#,
    ] {
        assert!(body.contains(want), "{want} missing from /metrics:\n{body}");
    }
}

#[tokio::test]
async fn metrics_listen_must_be_loopback() {
    let mut c = deckd::Config::for_data_dir("/nonexistent");
    c.metrics_listen = Some("0.0.0.0:9100".parse().unwrap());
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("loopback"), "{err}");
    c.metrics_listen = Some("[::1]:9100".parse().unwrap());
    c.validate().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let out = run_cli(
        vec!["check-config".into()],
        None,
        vec![("DECKD_METRICS_LISTEN".into(), "192.168.1.5:9100".into())],
        dir.path().to_path_buf(),
    )
    .await;
    out.assert_fail();
    assert!(
        out.stderr.contains("metrics_listen") && out.stderr.contains("loopback"),
        "{}",
        out.stderr
    );
}
