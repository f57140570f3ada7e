//! A throwaway PostgreSQL cluster for tests (behind the `testing` feature): Debian's server
//! started in a temporary directory on a Unix socket, as the `postgres` user when run as root,
//! stopped when dropped. Tests that get `None` from [`cluster`] skip; with
//! `GLASSLOG_REQUIRE_ORACLES` set (CI) they fail instead.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a cluster that cannot start is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL cluster of its own in a temporary directory, stopped when dropped.
pub struct TempPg {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    /// Its connection string (the `postgres` database).
    pub url: String,
}

fn as_postgres(bin: &Path, tool: &str) -> Command {
    // initdb refuses to run as root; as root, run the server as Debian's `postgres` user.
    let root = std::env::var("USER").is_ok_and(|u| u == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

impl TempPg {
    /// Starts one, or says why it cannot.
    pub fn start() -> Result<TempPg, String> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| {
                "no PostgreSQL in /usr/lib/postgresql (apt-get install postgresql)".to_owned()
            })?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .ok_or("no initdb under /usr/lib/postgresql")?;
        let dir = tempfile::Builder::new()
            .prefix("glasslog-pg")
            .tempdir_in("/tmp")
            .map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        // The server's user must reach its directory.
        let _ = Command::new("chmod").arg("777").arg(dir.path()).status();
        let out = as_postgres(&bin, "initdb")
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let opts = format!(
            "-c listen_addresses='' -k {} -c synchronous_commit=on -c fsync=on",
            dir.path().display()
        );
        let out = as_postgres(&bin, "pg_ctl")
            .args(["-D"])
            .arg(&data)
            .args(["-w", "-l"])
            .arg(dir.path().join("log"))
            .args(["-o", &opts, "start"])
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_ctl start failed: {}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(dir.path().join("log")).unwrap_or_default()
            ));
        }
        let url = format!(
            "host={} user=postgres dbname=postgres",
            dir.path().display()
        );
        Ok(TempPg {
            _dir: dir,
            data,
            bin,
            url,
        })
    }

    /// A new, empty database in this cluster; its connection string.
    pub fn database(&self, name: &str) -> String {
        let mut c = postgres::Client::connect(&self.url, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url
            .replace("dbname=postgres", &format!("dbname={name}"))
    }
}

impl Drop for TempPg {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// The cluster, or `None` after saying why the test skips.
pub fn cluster() -> Option<TempPg> {
    match TempPg::start() {
        Ok(pg) => Some(pg),
        Err(why) if std::env::var_os("GLASSLOG_REQUIRE_ORACLES").is_none() => {
            eprintln!("skipped: {why}");
            None
        }
        Err(why) => panic!("{why}"),
    }
}
