//! A log published as static tlog-tiles files (`publish_dir`) and served by nginx with
//! `deploy/nginx-tiles.conf`: with the glasslog server stopped, `glasslog monitor` follows it
//! and `glasslog audit` recomputes the whole tree from it, the checkpoint is text that must be
//! revalidated, and tiles are immutable. Without nginx this skips with a message, unless
//! `GLASSLOG_REQUIRE_ORACLES` is set (CI installs it).

use crate::Server;
use crate::server::run_cli;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx with the deploy file, its root, port and paths replaced; its base URL.
fn nginx(dir: &Path, root: &Path) -> Result<(Nginx, String), String> {
    let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("no nginx (apt-get install nginx-light)")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx-tiles.conf");
    let conf = std::fs::read_to_string(deploy)
        .map_err(|e| e.to_string())?
        .replace("listen 8088;", &format!("listen 127.0.0.1:{port};"))
        .replace("/var/lib/glasslog/public-log", root.to_str().unwrap())
        .replace(
            "/run/nginx-glasslog-tiles.pid",
            dir.join("nginx.pid").to_str().unwrap(),
        )
        .replace(
            "/var/log/nginx/glasslog-tiles.error.log",
            dir.join("nginx.err").to_str().unwrap(),
        )
        .replace("worker_processes auto;", "worker_processes 1;\ndaemon off;");
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).map_err(|e| e.to_string())?;
    let child = Command::new(bin)
        .args(["-p"])
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("nginx did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((Nginx(child), base))
}

fn published_size(root: &Path) -> u64 {
    std::fs::read_to_string(root.join("checkpoint"))
        .ok()
        .and_then(|n| n.lines().nth(1).and_then(|l| l.parse().ok()))
        .unwrap_or(0)
}

#[test]
fn a_published_log_is_followed_and_audited_through_nginx_alone() {
    let tmp = tempfile::tempdir().unwrap();
    // nginx's workers (another user) must read the published files.
    let _ = Command::new("chmod").arg("755").arg(tmp.path()).status();
    let root = tmp.path().join("public");
    let data = tmp.path().join("log");
    std::fs::create_dir_all(&data).unwrap();
    let cfg = tmp.path().join("glasslog.toml");
    std::fs::write(&cfg, format!("publish_dir = {root:?}\n")).unwrap();
    let log = Server::start_with(&data, &["--config", cfg.to_str().unwrap()]);
    log.append_events(600, "p");
    let deadline = Instant::now() + Duration::from_secs(30);
    while published_size(&root) < 600 {
        assert!(
            Instant::now() < deadline,
            "not published: {}",
            published_size(&root)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let (vkey, admin) = (log.vkey.clone(), log.admin.clone());
    drop(log.stop());

    let (_nginx, base) = match nginx(tmp.path(), &root) {
        Ok(n) => n,
        Err(why) if std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_none() => {
            eprintln!("skipped: {why}");
            return;
        }
        Err(why) => panic!("{why}"),
    };
    let state = tmp.path().join("monitor.json");
    let (code, _, err) = run_cli(
        &base,
        &vkey,
        &admin,
        &["monitor", "--once", "--state", state.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run_cli(&base, &vkey, &admin, &["audit"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // A key of another log is refused: the checks above can fail.
    let other = glasslog_merkle::Signer::from_seed("e2e.glasslog.example/log", [3; 32]).unwrap();
    let (code, _, _) = run_cli(&base, &other.vkey(), &admin, &["audit"]);
    assert_ne!(code, Some(0));

    let headers = |path: &str| {
        let out = Command::new("curl")
            .args(["-sSI", &format!("{base}/{path}")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
    };
    let cp = headers("checkpoint");
    assert!(
        cp.contains("content-type: text/plain") && cp.contains("no-cache"),
        "{cp}"
    );
    let tile = headers("tile/0/001");
    assert!(
        tile.contains("200 ok") && tile.contains("immutable"),
        "{tile}"
    );
    assert!(headers("tile/entries/002.p/88").contains("200 ok"));
}
