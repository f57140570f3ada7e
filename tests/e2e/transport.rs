//! The connection layer: slow clients are cut off without hurting others, and TLS works.

use crate::Server;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_owned()
}

#[test]
fn slow_clients_are_cut_off_and_others_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("glasslog.toml");
    std::fs::write(
        &config,
        "header_timeout_secs = 1\nrequest_timeout_secs = 2\n",
    )
    .unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    // Slowloris: many connections that never finish their headers.
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut c = TcpStream::connect(addr(&s)).unwrap();
            c.write_all(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            c
        })
        .collect();
    // Valid clients are served meanwhile.
    for _ in 0..20 {
        assert_eq!(s.get("/checkpoint", None).status, 200);
    }
    // After the header deadline the server has closed every slow connection.
    std::thread::sleep(Duration::from_millis(2500));
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = Vec::new();
        let started = Instant::now();
        let _ = c.read_to_end(&mut buf);
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "a slow connection was kept open"
        );
        let text = String::from_utf8_lossy(&buf);
        assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    // A body trickled slower than the request deadline gets 408 or a closed connection.
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.write_all(format!("POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nabc", s.admin).as_bytes()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    assert_eq!(s.get("/healthz", None).status, 200);
}

#[test]
fn https_with_a_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
    let config = dir.path().join("glasslog.toml");
    std::fs::write(
        &config,
        format!(
            "tls_cert = {:?}\ntls_key = {:?}\n",
            dir.path().join("cert.pem"),
            dir.path().join("key.pem")
        ),
    )
    .unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let port = s.base.rsplit(':').next().unwrap().to_owned();
    let root = ureq::tls::Certificate::from_der(cert.der()).to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let mut resp = agent
        .get(&format!("https://localhost:{port}/checkpoint"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.body_mut()
            .read_to_string()
            .unwrap()
            .starts_with("e2e.glasslog.example/log\n0\n")
    );
    // Plain HTTP to the TLS port is refused, not served.
    let mut c = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    c.write_all(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("e2e.glasslog.example"));
}

#[test]
fn each_token_has_its_own_rate_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let cfg = tmp.path().join("limits.toml");
    std::fs::write(&cfg, "rate_limit_per_second = 5\nrate_limit_burst = 5\n").unwrap();
    let s = Server::start_with(&dir, &["--config", cfg.to_str().unwrap()]);
    let noisy = s.token("reader", "noisy");
    let quiet = s.token("reader", "quiet");
    // The burst passes; then requests faster than 5/s meet a 429 (however slow the machine,
    // as long as a request takes under 200 ms).
    let first: Vec<u16> = (0..5)
        .map(|_| s.get("/v1/log", Some(&noisy)).status)
        .collect();
    assert!(first.iter().all(|&c| c == 200), "{first:?}");
    let limited = (0..500)
        .map(|_| s.get("/v1/log", Some(&noisy)))
        .find(|r| r.status != 200)
        .expect("no request was limited");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.content_type, "application/problem+json");
    assert_eq!(limited.json()["type"], "urn:glasslog:problem:rate-limited");
    // Another credential is not affected.
    assert_eq!(s.get("/v1/log", Some(&quiet)).status, 200);
    // The bucket refills.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(s.get("/v1/log", Some(&noisy)).status, 200);
    assert!(
        s.get("/metrics", Some(&s.admin))
            .text()
            .lines()
            .any(|l| l.starts_with("glasslog_rate_limited_total ") && !l.ends_with(" 0"))
    );
    s.stop();
}
