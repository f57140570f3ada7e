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

#[test]
fn each_route_takes_the_body_it_needs_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    // 300 KB: more than a single entry's body may be, far less than a batch's.
    let pad = "x".repeat(1000);
    let lines: String = (0..300)
        .map(|i| format!("{{\"actor\":\"a{i}\",\"action\":\"write\",\"reason\":\"{pad}\"}}\n"))
        .collect();
    // A single entry announcing 300 KB is refused on its headers, before any of it is read
    // (with one limit for every route it would wait for the body).
    let announce = |path: &str| {
        let mut c = TcpStream::connect(addr(&s)).unwrap();
        c.write_all(format!("POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 300000\r\n\r\n", s.admin).as_bytes()).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 12];
        let n = c.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(announce("/v1/entries"), "HTTP/1.1 413");
    assert_eq!(announce("/v1/breakglass/sessions"), "HTTP/1.1 413");
    assert_eq!(announce("/v1/admin/tokens"), "HTTP/1.1 413");
    let r = s.request(
        "POST",
        "/v1/entries/batch",
        Some(&s.admin),
        Some("application/x-ndjson"),
        lines.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    s.stop();
}

/// Sends a request's headers announcing a body that never comes: the request stays in flight.
fn hold_request(s: &Server) -> TcpStream {
    let mut c = TcpStream::connect(addr(s)).unwrap();
    c.write_all(format!("POST /v1/entries/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n", s.admin).as_bytes()).unwrap();
    c
}

#[test]
fn requests_and_connections_in_flight_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("glasslog.toml");
    std::fs::write(
        &config,
        "max_concurrent_requests = 2\nmax_connections = 4\nrequest_timeout_secs = 20\n",
    )
    .unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    // Two requests in flight fill the server: the next is shed at once with a 429.
    let held: Vec<TcpStream> = (0..2).map(|_| hold_request(&s)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let r = s.get("/checkpoint", None);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.json()["type"], "urn:glasslog:problem:overloaded");
    // Once they go, the server takes requests again.
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.get("/checkpoint", None).status, 200);

    // Four open connections fill it (with the helper's pooled one, more than fill it): a
    // fifth waits until they close.
    let open: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(addr(&s)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = TcpStream::connect(addr(&s)).unwrap();
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        fifth.read(&mut buf).is_err(),
        "a connection past the limit was served"
    );
    drop(open);
    fifth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = fifth.read_to_end(&mut answer);
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    s.stop();
}

/// A body refused before it is read: a small one is read and dropped, so the connection stays
/// usable; a large one is never read, and the answer says `Connection: close`, so that
/// keep-alive clients do not send their next request into a socket the server closes.
#[test]
fn a_refused_body_is_drained_when_small_and_closes_the_connection_when_large() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("data"));
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Small: answered, then the same connection serves the next request.
    c.write_all(b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 401"), "{text}");
    assert!(
        text.contains("http/1.1 200"),
        "the connection was not kept: {text}"
    );
    // Large and unsent: refused at once, and the connection closes.
    let mut c = TcpStream::connect(addr(&s)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 401"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
    s.stop();
}
