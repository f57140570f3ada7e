//! The write path on highly available PostgreSQL, failed over for real: the cluster of
//! `deploy/cluster/cluster.sh` (three PostgreSQL 15 managed by Patroni on a three-member etcd,
//! `synchronous_mode` on), two glasslog front-ends on it behind a load balancer (one sequencing,
//! one a standby that forwards to it), clients submitting throughout, and one failure of each kind: the database
//! primary's machine killed, the sequencing front-end killed, and the sequencing front-end
//! paused past its lease and resumed. After them: every acknowledged entry is at its index with
//! its bytes, every checkpoint a client saw is consistent with the last one, `glasslog audit`
//! passes, and a monitor that ran throughout never alarmed. Times from each failure to the
//! next acknowledged entry are printed (RELIABILITY.md has the long form's figures).
//!
//! Needs `patroni`, `etcd-server` and `postgresql` from Debian; skips without them unless
//! `GLASSLOG_REQUIRE_ORACLES` is set (CI installs them). `GLASSLOG_FAILOVER_ROUNDS=N` repeats
//! the three failures N times (the long form; `GLASSLOG_PATRONI_TTL` sets Patroni's lease).

use crate::Server;
use glasslog_merkle::{Checkpoint, Hash, Note, VerifierSet, verify_consistency};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The front-ends' sequencer lease, in seconds.
const LEASE: u64 = 3;

/// The actor of an entry sent to a front-end that lost its lease.
const FENCED: &str = "written-after-the-lease-was-lost";

struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/cluster/cluster.sh")
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let missing: Vec<&str> = ["/usr/bin/patroni", "/usr/bin/etcd", "/usr/bin/etcdctl"]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            let why = format!(
                "no {} (apt-get install patroni etcd-server etcd-client postgresql)",
                missing.join(", ")
            );
            assert!(
                std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_none(),
                "{why}"
            );
            eprintln!("skipped: {why}");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("glasslog-cluster")
            .tempdir_in("/tmp")
            .unwrap();
        let base = free_port_range(33);
        let out = Command::new("bash")
            .arg(script())
            .args(["up"])
            .arg(dir.path())
            .arg(base.to_string())
            .output()
            .unwrap();
        let mut cluster = Cluster {
            dir,
            url: String::new(),
        };
        assert!(
            out.status.success(),
            "the cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = std::fs::read_to_string(cluster.dir.path().join("env")).unwrap();
        env.trim()
            .strip_prefix("GLASSLOG_PG_URL=")
            .unwrap()
            .trim_matches('\'')
            .clone_into(&mut cluster.url);
        Some(cluster)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(script())
            .arg(args[0])
            .arg(self.dir.path())
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cluster.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("down")
            .arg(self.dir.path())
            .output();
    }
}

/// The monitor's process, killed however the test ends.
struct Monitor(std::process::Child);

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A base port with `n` free ports after it.
fn free_port_range(n: u16) -> u16 {
    for attempt in 0..200u16 {
        let base = 20_000 + (std::process::id() as u16 % 300 + attempt * 97) % 400 * 100;
        if (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no {n} free ports in a row");
}

/// A TCP load balancer: connections go round the backends in turn, each to the next one that
/// accepts it, so the standby (which forwards) takes half the submissions.
struct Balancer {
    addr: String,
    backends: Arc<Mutex<Vec<String>>>,
}

impl Balancer {
    fn start() -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let backends = Arc::new(Mutex::new(Vec::<String>::new()));
        let list = Arc::clone(&backends);
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().flatten().enumerate() {
                let mut list = list.lock().unwrap().clone();
                if !list.is_empty() {
                    let turn = n % list.len();
                    list.rotate_left(turn);
                }
                std::thread::spawn(move || {
                    let up = list.iter().find_map(|b| {
                        let a = b.trim_start_matches("http://").parse().ok()?;
                        TcpStream::connect_timeout(&a, Duration::from_millis(200)).ok()
                    });
                    if let Some(up) = up {
                        pipe(client, up);
                    }
                });
            }
        });
        Balancer { addr, backends }
    }

    fn set(&self, backends: &[&Server]) {
        *self.backends.lock().unwrap() = backends.iter().map(|s| s.base.clone()).collect();
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(Shutdown::Write);
    });
    let (mut a, mut b) = (a, b);
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = b.read(&mut buf) {
        if n == 0 || a.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = a.shutdown(Shutdown::Write);
    let _ = t.join();
}

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Acknowledged entries: index to (actor, when it was sent, when it was acknowledged).
    acks: BTreeMap<u64, (String, Instant, Instant)>,
    /// Every actor ever submitted, acknowledged or not.
    tried: std::collections::HashSet<String>,
    /// Distinct signed checkpoint notes.
    checkpoints: Vec<String>,
    refused: u64,
    /// Acknowledgements that came through the standby (its `Via` header).
    forwarded: u64,
}

struct Load {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    /// Services submitting single entries through the balancer, and a client polling its
    /// checkpoint, until stopped.
    fn start(url: &str, token: &str) -> Load {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(3)))
            .build()
            .into();
        let mut threads = Vec::new();
        for t in 0..3 {
            let (seen, stop, agent) = (Arc::clone(&seen), Arc::clone(&stop), agent.clone());
            let (url, auth) = (format!("{url}/v1/entries"), format!("Bearer {token}"));
            threads.push(std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let actor = format!("svc{t}-{n}");
                    n += 1;
                    seen.lock().unwrap().tried.insert(actor.clone());
                    let sent = Instant::now();
                    let r = agent
                        .post(&url)
                        .header("Authorization", &auth)
                        .header("Content-Type", "application/json")
                        .send(
                            json!({"actor": actor, "action": "write", "resource": "db"})
                                .to_string(),
                        );
                    match r {
                        Ok(mut r) if r.status() == 201 => {
                            let via = r.headers().contains_key("via");
                            let v: Value =
                                serde_json::from_str(&r.body_mut().read_to_string().unwrap())
                                    .unwrap();
                            let index = v["index"].as_u64().unwrap();
                            let mut s = seen.lock().unwrap();
                            s.forwarded += u64::from(via);
                            let before = s.acks.insert(index, (actor, sent, Instant::now()));
                            assert!(before.is_none(), "index {index} acknowledged twice");
                        }
                        Ok(r) => {
                            let status = r.status().as_u16();
                            assert!(status == 503 || status == 502, "a submission got {status}");
                            seen.lock().unwrap().refused += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        Err(_) => {
                            seen.lock().unwrap().refused += 1;
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            }));
        }
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        let cp_url = format!("{url}/checkpoint");
        threads.push(std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                if let Ok(mut r) = agent.get(&cp_url).call()
                    && r.status() == 200
                    && let Ok(note) = r.body_mut().read_to_string()
                {
                    let mut s = seen2.lock().unwrap();
                    if s.checkpoints.last() != Some(&note) {
                        s.checkpoints.push(note);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
        Load {
            seen,
            stop,
            threads,
        }
    }

    fn acked(&self) -> usize {
        self.seen.lock().unwrap().acks.len()
    }

    /// Entries acknowledged in `window` before now.
    fn rate(&self, window: Duration) -> f64 {
        let since = Instant::now() - window;
        let s = self.seen.lock().unwrap();
        s.acks.values().filter(|(_, _, t)| *t >= since).count() as f64 / window.as_secs_f64()
    }

    /// Waits for the first entry sent after `since` to be acknowledged; how long after
    /// `since` that was.
    fn first_ack_after(&self, since: Instant, patience: Duration) -> Duration {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(t) = self
                .seen
                .lock()
                .unwrap()
                .acks
                .values()
                .filter(|(_, sent, _)| *sent > since)
                .map(|(_, _, t)| *t)
                .min()
            {
                return t - since;
            }
            assert!(
                Instant::now() < deadline,
                "no entry acknowledged within {patience:?} of the failure"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        Arc::try_unwrap(self.seen)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

fn front_end(dir: &Path, config: &str, url: &str) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    Server::start_with(dir, &["--config", config, "--store", url])
}

/// Waits until `s` sequences (its own `/readyz`, not a standby's `forwarding`).
fn wait_sequencing(s: &Server, patience: Duration) {
    let deadline = Instant::now() + patience;
    while s
        .try_request("GET", "/readyz", None, None, b"")
        .map(|r| r.text())
        .ok()
        != Some("ready\n".into())
    {
        assert!(Instant::now() < deadline, "the standby never took over");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The front-ends behind the balancer: one sequencing, one a standby that forwards to it.
struct Fronts {
    seq: Server,
    /// Which of `dirs` the sequencing one runs on.
    at: usize,
    standby: Option<Server>,
    dirs: [PathBuf; 2],
    config: String,
    url: String,
    lb: Balancer,
}

impl Fronts {
    /// Starts a standby on the other directory (provisioned like the sequencing one); it
    /// listens at once, forwarding, and joins the balancer behind the sequencing one.
    fn start_standby(&mut self) {
        let (like, dir) = (&self.dirs[self.at], &self.dirs[1 - self.at]);
        std::fs::create_dir_all(dir).unwrap();
        // The token store is in the database; the admin token's file only for the helper.
        for f in ["fingerprint.key", "admin.token"] {
            if !dir.join(f).exists() {
                std::fs::copy(like.join(f), dir.join(f)).unwrap();
            }
        }
        let s = front_end(dir, &self.config, &self.url);
        self.lb.backends.lock().unwrap().push(s.base.clone());
        self.standby = Some(s);
    }

    /// Does `fail` to the sequencing front-end, takes it out of the balancer (a health check
    /// would), and waits for the standby to take over; returns the old one.
    fn promote_after(&mut self, fail: impl FnOnce(&Server)) -> Server {
        fail(&self.seq);
        let base = self.seq.base.clone();
        self.lb.backends.lock().unwrap().retain(|b| *b != base);
        self.promote()
    }

    /// The standby sequences now: it takes the old one's place, and a new standby starts.
    fn promote(&mut self) -> Server {
        let next = self.standby.take().unwrap();
        wait_sequencing(&next, Duration::from_secs(120));
        self.lb.set(&[&next]);
        self.at = 1 - self.at;
        let old = std::mem::replace(&mut self.seq, next);
        self.start_standby();
        old
    }

    /// After a database failover the standby may have taken the lease (the failover outlasted
    /// it): then the old sequencer stopped on its own, and the standby sequences.
    fn follow(&mut self) -> bool {
        if self.seq.wait_exit(Duration::ZERO).is_some() {
            drop(self.promote());
            return true;
        }
        false
    }
}

#[test]
fn nothing_acknowledged_is_lost_and_nothing_forks_through_failovers() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let rounds: usize = std::env::var("GLASSLOG_FAILOVER_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let tmp = tempfile::tempdir().unwrap();
    if std::env::var_os("GLASSLOG_FAILOVER_KEEP").is_some() {
        eprintln!("front-ends' logs kept in {}", tmp.path().display());
    }
    let cfg = tmp.path().join("front.toml");
    std::fs::write(
        &cfg,
        format!(
            "key_file = {:?}\nstore_lease_seconds = {LEASE}\nstore_standby = true\n",
            tmp.path().join("log.key")
        ),
    )
    .unwrap();
    let config = cfg.to_str().unwrap().to_owned();
    let url = cluster.url.clone();
    let dirs = [tmp.path().join("a"), tmp.path().join("b")];
    let seq = front_end(&dirs[0], &config, &url);
    let (vkey, admin) = (seq.vkey.clone(), seq.admin.clone());
    let lb = Balancer::start();
    lb.set(&[&seq]);
    let mut f = Fronts {
        seq,
        at: 0,
        standby: None,
        dirs,
        config,
        url,
        lb,
    };
    f.start_standby();

    let monitor_out = tmp.path().join("monitor.out");
    let mut monitor = Monitor(
        Command::new(env!("CARGO_BIN_EXE_glasslog"))
            .args(["monitor", "--interval", "1", "--state"])
            .arg(tmp.path().join("monitor.json"))
            .env("GLASSLOG_URL", &f.lb.addr)
            .env("GLASSLOG_VKEY", &vkey)
            .stdout(std::fs::File::create(&monitor_out).unwrap())
            .stderr(std::fs::File::create(tmp.path().join("monitor.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let load = Load::start(&f.lb.addr, &admin);
    std::thread::sleep(Duration::from_secs(3));
    let mut report = Vec::new();
    let settle = Duration::from_secs(3);

    for round in 0..rounds {
        // 1. The database primary's machine dies: Patroni promotes the synchronous standby,
        //    and the front-end follows it through its multi-host connection string.
        let leader = cluster.run(&["leader"]);
        let before = load.rate(settle);
        cluster.run(&["kill", &leader]);
        let killed = Instant::now();
        let gap = load.first_ack_after(killed, Duration::from_secs(120));
        std::thread::sleep(settle);
        let switched = f.follow();
        report.push(format!(
            "round {round}: database primary {leader} killed: next entry acknowledged after {:.1} s{}; {before:.0}/s before, {:.0}/s after",
            gap.as_secs_f64(),
            if switched { " (the standby front-end took over)" } else { "" },
            load.rate(settle)
        ));
        cluster.run(&["start", &leader]);
        cluster.run(&["wait"]);

        // 2. The sequencing front-end dies: the standby takes the lease over.
        let before = load.rate(settle);
        let killed = Instant::now();
        let old = f.promote_after(|seq| seq.signal("KILL"));
        drop(old);
        let gap = load.first_ack_after(killed, Duration::from_secs(60));
        std::thread::sleep(settle);
        report.push(format!(
            "round {round}: sequencing front-end killed: next entry acknowledged after {:.1} s (lease {LEASE} s); {before:.0}/s before, {:.0}/s after",
            gap.as_secs_f64(),
            load.rate(settle)
        ));

        // 3. The sequencing front-end pauses past its lease (a long GC pause, a VM frozen):
        //    the balancer's health check takes it out, the standby takes over, and when the
        //    paused one resumes it writes nothing more and stops.
        let before = load.rate(settle);
        let paused = Instant::now();
        let mut old = f.promote_after(|seq| seq.signal("STOP"));
        let gap = load.first_ack_after(paused, Duration::from_secs(60));
        old.signal("CONT");
        let r = old.try_request(
            "POST",
            "/v1/entries",
            Some(&admin),
            Some("application/json"),
            format!(r#"{{"actor": "{FENCED}", "action": "write"}}"#).as_bytes(),
        );
        if let Ok(r) = r {
            assert_eq!(
                r.status,
                503,
                "a superseded front-end took an entry: {}",
                r.text()
            );
        }
        let status = old.wait_exit(Duration::from_secs(20));
        assert!(
            status.is_some_and(|s| !s.success()),
            "the superseded front-end did not stop: {status:?}"
        );
        assert!(
            old.server_log().contains("took over the sequencer lease"),
            "{}",
            old.server_log()
        );
        std::thread::sleep(settle);
        report.push(format!(
            "round {round}: sequencing front-end paused: next entry acknowledged after {:.1} s (lease {LEASE} s); {before:.0}/s before, {:.0}/s after",
            gap.as_secs_f64(),
            load.rate(settle)
        ));
    }

    let acked_while_running = load.acked();
    let seen = load.stop();
    for line in &report {
        eprintln!("{line}");
    }
    eprintln!(
        "{acked_while_running} entries acknowledged ({} through the standby), {} submissions refused or cut off",
        seen.forwarded, seen.refused
    );
    assert!(acked_while_running > 100, "the load hardly ran");
    assert!(
        seen.forwarded > 0,
        "no submission was forwarded by a standby"
    );
    let seq = &f.seq;

    // Every acknowledged entry is at its index with its bytes, and every entry in the log was
    // submitted by someone (nothing invented, nothing from a fenced front-end).
    let cp = seq.get("/checkpoint", None).text();
    let set = VerifierSet::from_vkeys([vkey.as_str()]).unwrap();
    let last = Checkpoint::parse(&Note::open(cp.as_bytes(), &set).unwrap().text).unwrap();
    let mut start = 0;
    while start < last.size {
        let end = (start + 256).min(last.size);
        let page = seq
            .get(
                &format!("/v1/entries?start={start}&end={end}"),
                Some(&admin),
            )
            .json();
        for e in page["entries"].as_array().unwrap() {
            let index = e["index"].as_u64().unwrap();
            let actor = e
                .pointer("/entry/event/actor/user/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            // The services' entries (the server's own records, the token events, are not
            // theirs); the one sent to the fenced front-end must not be there at all.
            assert!(
                !actor.starts_with("svc") || seen.tried.contains(&actor),
                "entry {index} ({actor}) was never submitted"
            );
            assert_ne!(actor, FENCED, "entry {index} came from a fenced front-end");
            if let Some((acked, _, _)) = seen.acks.get(&index) {
                assert_eq!(acked, &actor, "entry {index} is not the one acknowledged");
            }
        }
        start = end;
    }
    let beyond: Vec<_> = seen.acks.range(last.size..).map(|(i, _)| *i).collect();
    assert!(beyond.is_empty(), "acknowledged beyond the log: {beyond:?}");

    // Every checkpoint a client saw is consistent with the last one.
    for note in &seen.checkpoints {
        let cp = Checkpoint::parse(&Note::open(note.as_bytes(), &set).unwrap().text).unwrap();
        if cp.size == 0 || cp.size == last.size {
            assert!(
                cp.size == 0 || cp.root == last.root,
                "a fork at {}",
                cp.size
            );
            continue;
        }
        let proof = seq
            .get(
                &format!("/v1/proofs/consistency?from={}&to={}", cp.size, last.size),
                None,
            )
            .json();
        let hashes: Vec<Hash> = proof["consistency"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        verify_consistency(cp.size, last.size, &hashes, &cp.root, &last.root)
            .unwrap_or_else(|e| panic!("checkpoint {} is not in the last one: {e}", cp.size));
    }
    eprintln!(
        "{} checkpoints seen, all consistent",
        seen.checkpoints.len()
    );

    // The monitor ran throughout, never alarmed, and reached the last checkpoint; `glasslog
    // audit` matches the signed root.
    let deadline = Instant::now() + Duration::from_secs(10);
    let reached = format!("ok: size {} ", last.size);
    while !std::fs::read_to_string(&monitor_out)
        .unwrap_or_default()
        .contains(&reached)
    {
        assert!(
            Instant::now() < deadline,
            "the monitor did not reach size {}: {}",
            last.size,
            std::fs::read_to_string(tmp.path().join("monitor.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        monitor.0.try_wait().unwrap().is_none(),
        "the monitor stopped: {}",
        std::fs::read_to_string(tmp.path().join("monitor.log")).unwrap_or_default()
    );
    drop(monitor);
    let (code, out, err) = seq.cli(&["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");

    // A clean stop hands the lease to the standby at once; then it is stopped too.
    drop(f);
    if std::env::var_os("GLASSLOG_FAILOVER_KEEP").is_some() {
        let _ = tmp.keep();
    }
}
