//! Starting and stopping the real binary, and a small HTTP helper.

use serde_json::Value;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub dir: PathBuf,
    pub admin: String,
    pub vkey: String,
    stderr: PathBuf,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Every header, as (lowercase name, value).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// A header's value, if the reply has it.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

impl Server {
    /// Starts the binary on 127.0.0.1:0 with `dir` as its data directory.
    pub fn start(dir: &Path) -> Server {
        Self::start_with(dir, &[])
    }

    pub fn start_with(dir: &Path, extra: &[&str]) -> Server {
        Self::start_with_env(dir, extra, &[])
    }

    /// Like [`Server::start_with`], with extra environment variables for the server.
    pub fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::launch(dir, extra, env, Duration::from_secs(60))
    }

    fn launch(dir: &Path, extra: &[&str], env: &[(&str, &str)], patience: Duration) -> Server {
        let stderr = dir.with_extension("stderr.log");
        let err_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_glasslog"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(if extra.contains(&"--origin") {
                &[][..]
            } else {
                &["--origin", "e2e.glasslog.example/log"][..]
            })
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err_file))
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut vkey) = (String::new(), String::new());
        let deadline = Instant::now() + patience;
        while base.is_empty() || vkey.is_empty() {
            assert!(Instant::now() < deadline, "server did not start");
            let Some(Ok(line)) = lines.next() else {
                panic!(
                    "server exited: {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            };
            if let Some(a) = line.strip_prefix("glasslog: listening on ") {
                base = a.to_owned();
            }
            if let Some(k) = line.strip_prefix("glasslog: verifier key ") {
                vkey = k.to_owned();
            }
        }
        let admin = std::fs::read_to_string(dir.join("admin.token"))
            .unwrap()
            .trim()
            .to_owned();
        // A server that stops answering fails the test instead of hanging it.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Server {
            child: Some(child),
            base,
            dir: dir.to_owned(),
            admin,
            vkey,
            stderr,
            agent,
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Reply {
        self.try_request(method, path, token, content_type, body)
            .unwrap()
    }

    /// Like [`Server::request`], but a connection the server closed is an `Err`: for bodies
    /// over the limit the server may answer 413 and close before the client has sent it all.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Reply, ureq::Error> {
        self.try_request_with(method, path, token, content_type, body, &[])
    }

    /// Like [`Server::try_request`], with extra request headers.
    pub fn try_request_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> Result<Reply, ureq::Error> {
        let url = format!("{}{path}", self.base);
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut resp = match method {
            "GET" | "DELETE" => {
                let mut r = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r.call()?
            }
            _ => {
                let mut r = if method == "POST" {
                    self.agent.post(&url)
                } else {
                    self.agent.put(&url)
                };
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                if let Some(ct) = content_type {
                    r = r.header("Content-Type", ct);
                }
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r.send(body)?
            }
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()?;
        Ok(Reply {
            status,
            content_type,
            body,
            headers,
        })
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request("GET", path, token, None, b"")
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            token,
            Some("application/json"),
            &serde_json::to_vec(body).unwrap(),
        )
    }

    /// POSTs JSON with extra request headers.
    pub fn post_json_with(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.try_request_with(
            "POST",
            path,
            token,
            Some("application/json"),
            &serde_json::to_vec(body).unwrap(),
            headers,
        )
        .unwrap()
    }

    /// Creates a token with a role through the admin API.
    /// Appends `n` events with actors `{prefix}{i}`, in batches of at most 200, each of which
    /// must be accepted.
    pub fn append_events(&self, n: u64, prefix: &str) {
        for start in (0..n).step_by(200) {
            let items: Vec<Value> = (start..n.min(start + 200))
                .map(|i| serde_json::json!({"actor": format!("{prefix}{i}"), "action": "read"}))
                .collect();
            let r = self.post_json("/v1/entries/batch", Some(&self.admin), &Value::Array(items));
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }

    pub fn token(&self, role: &str, name: &str) -> String {
        let r = self.post_json(
            "/v1/admin/tokens",
            Some(&self.admin),
            &serde_json::json!({"role": role, "name": name}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["token"].as_str().unwrap().to_owned()
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGKILL: the process dies wherever it is, as in a crash or an OOM kill.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends a signal by name (`STOP`, `CONT`) to the server's process.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{name} failed");
    }

    /// Waits up to `timeout` for the server to exit on its own; its status, if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) -> PathBuf {
        self.terminate();
        self.dir.clone()
    }

    fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(status.success(), "server exited with {status}");
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("server did not stop on SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `glasslog serve` on `dir` with a config file that must make it refuse to start;
/// returns its stderr.
pub fn refused_to_start(dir: &Path, config: &Path, env: &[(&str, &Path)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--origin", "e2e.glasslog.example/log", "--data-dir"])
        .arg(dir)
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success(), "the server started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the `glasslog` binary with a log's URL, verifier key and token in its environment;
/// returns the exit status, stdout and stderr.
pub fn run_cli(url: &str, vkey: &str, token: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_glasslog"))
        .args(args)
        .env("GLASSLOG_URL", url)
        .env("GLASSLOG_VKEY", vkey)
        .env("GLASSLOG_TOKEN", token)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl Server {
    /// Runs the `glasslog` binary against this server, as its admin.
    pub fn cli(&self, args: &[&str]) -> (Option<i32>, String, String) {
        run_cli(&self.base, &self.vkey, &self.admin, args)
    }
}
