//! Power loss: the server runs in a small virtual machine (qemu, a Debian kernel, an initramfs
//! built by `tests/powerloss/initramfs.sh`, its data on an ext4 virtio disk with host caching
//! off), and the harness stops the machine dead under load. Unlike SIGKILL, that loses the
//! guest's page cache: whatever the server acknowledged without an fsync is gone. After every
//! boot each acknowledged entry must be at its index with its bytes, and every checkpoint a
//! client saw must be consistent with the recovered tree; at the end `glasslog audit`
//! recomputes the whole tree against the signature.
//!
//! The control runs the same load with every fsync turned into a no-op (libeatmydata, preloaded
//! in the guest) and must see acknowledged entries lost: that is what shows the test can fail.
//!
//! Needs `qemu-system-x86_64`, `busybox`, `mkfs.ext4`, libeatmydata and an unpacked Debian
//! kernel in `GLASSLOG_VM_KERNEL_DIR` (`scripts/vm-kernel.sh` fetches one; `.ci/run` does);
//! without them the tests say so and pass vacuously. `GLASSLOG_POWERLOSS_CYCLES=100` runs the
//! long form (see RELIABILITY.md).

use crate::Server;
use crate::crash::{Load, check_since};
use glasslog_client::{Client, VerifiedCheckpoint};
use glasslog_merkle::Hash;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ORIGIN: &str = "powerloss.glasslog.example/log";
const EATMYDATA: &str = "/usr/lib/x86_64-linux-gnu/libeatmydata.so.1";

/// What the machine boots, built once per test.
struct Guest {
    kernel: PathBuf,
    initrd: PathBuf,
    disk: PathBuf,
    vkey: String,
    admin: String,
    _tmp: tempfile::TempDir,
}

/// Why the tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let Ok(dir) = std::env::var("GLASSLOG_VM_KERNEL_DIR") else {
        return Some("GLASSLOG_VM_KERNEL_DIR is not set (scripts/vm-kernel.sh)".into());
    };
    for tool in ["qemu-system-x86_64", "busybox", "mkfs.ext4", "strip"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!("{tool} is not installed"));
        }
    }
    if !Path::new(EATMYDATA).exists() {
        return Some(format!("{EATMYDATA} is missing (package libeatmydata1)"));
    }
    if !Path::new(&dir).join("boot").is_dir() {
        return Some(format!("{dir} holds no unpacked kernel"));
    }
    None
}

impl Guest {
    fn build() -> Guest {
        let dir = PathBuf::from(std::env::var("GLASSLOG_VM_KERNEL_DIR").unwrap());
        let kernel = std::fs::read_dir(dir.join("boot"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz"))
            })
            .expect("a vmlinuz in the kernel directory");
        let tmp = tempfile::tempdir().unwrap();
        let initrd = tmp.path().join("initrd.cpio");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/powerloss/initramfs.sh");
        let ok = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .arg(env!("CARGO_BIN_EXE_glasslog"))
            .arg(&initrd)
            .status()
            .unwrap();
        assert!(ok.success(), "the initramfs did not build");
        // The keys and the admin token are made on the host, so the harness knows them; the
        // disk is then made from that directory.
        let seed = tmp.path().join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        let (vkey, admin) = {
            let s = Server::start_with(&seed.join("glasslog"), &["--origin", ORIGIN]);
            (s.vkey.clone(), s.admin.clone())
        };
        let _ = std::fs::remove_file(seed.join("glasslog.stderr.log"));
        let disk = tmp.path().join("disk.img");
        std::fs::File::create(&disk)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let ok = Command::new("mkfs.ext4")
            .args(["-q", "-F", "-d"])
            .arg(&seed)
            .arg(&disk)
            .status()
            .unwrap();
        assert!(ok.success(), "mkfs.ext4 failed");
        Guest {
            kernel,
            initrd,
            disk,
            vkey,
            admin,
            _tmp: tmp,
        }
    }
}

/// A running machine, stopped dead (SIGKILL to qemu) on drop.
struct Vm {
    child: Child,
    base: String,
    serial: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Vm {
    /// Boots the guest; `Err` with the console's tail when the server does not come up.
    fn boot(g: &Guest, nosync: bool, boot: u64) -> Result<Vm, String> {
        let port = free_port();
        let serial = g.disk.with_file_name(format!("serial-{boot}.log"));
        let append = format!(
            "console=ttyS0 quiet panic=-1 glasslog.nosync={}",
            u8::from(nosync)
        );
        // Software emulation: nested KVM is not available everywhere this runs, and the
        // guest's speed does not matter, only that its page cache dies with it.
        let child = Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "2"])
            .args(["-nographic", "-no-reboot", "-monitor", "none"])
            .arg("-kernel")
            .arg(&g.kernel)
            .arg("-initrd")
            .arg(&g.initrd)
            .args(["-append", &append])
            // cache=none: the host's page cache is not in the way, so a write the guest did
            // not flush is not kept for it either.
            .arg("-drive")
            .arg(format!(
                "file={},format=raw,if=virtio,cache=none",
                g.disk.display()
            ))
            .args([
                "-netdev",
                &format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:8080"),
            ])
            .args(["-device", "virtio-net-pci,netdev=n0"])
            .arg("-serial")
            .arg(format!("file:{}", serial.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut vm = Vm {
            child,
            base: format!("http://127.0.0.1:{port}"),
            serial,
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let console = std::fs::read_to_string(&vm.serial).unwrap_or_default();
            if console.contains("glasslog: listening on") {
                break;
            }
            let exited = vm.child.try_wait().ok().flatten().is_some();
            if console.contains("glasslog-vm: server exited") || exited || Instant::now() > deadline
            {
                let tail: String = console
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                let _ = vm.child.kill();
                return Err(format!("boot {boot}: the server did not come up:\n{tail}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        // The port forward answers before the guest's server does on a slow start.
        for _ in 0..100 {
            if ureq::get(&format!("{}/healthz", vm.base)).call().is_ok() {
                return Ok(vm);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("boot {boot}: /healthz never answered"))
    }

    /// Pulls the plug.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cycles` power losses under load; `Err` at the first loss or fork found, with the
/// boot that found it (boot 0 precedes any power loss: an error there is the machine's).
fn cycles(g: &Guest, cycles: u64, nosync: bool) -> Result<Summary, (u64, String)> {
    let acked: Arc<Mutex<BTreeMap<u64, Hash>>> = Arc::default();
    let seq = Arc::new(AtomicU64::new(0));
    let mut seen: Vec<VerifiedCheckpoint> = Vec::new();
    let mut last_head: Option<VerifiedCheckpoint> = None;
    let mut checked: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(nosync);
    let started = Instant::now();
    for cycle in 0..=cycles {
        let vm = Vm::boot(g, nosync, cycle).map_err(|e| (cycle, e))?;
        let client = Client::new(&vm.base, &g.vkey, Some(g.admin.clone())).unwrap();
        let head = check_since(
            &client,
            &acked,
            &mut checked,
            last_head.iter().chain(&seen),
            cycle,
        )
        .map_err(|e| (cycle, e))?;
        seen.clear();
        last_head = Some(head);
        if cycle == cycles {
            let state = g.disk.with_file_name("audit.json");
            let (code, _, err) = crate::server::run_cli(
                &vm.base,
                &g.vkey,
                &g.admin,
                &["audit", "--state", state.to_str().unwrap()],
            );
            if code != Some(0) {
                return Err((cycle, format!("audit after {cycles} power losses: {err}")));
            }
            break;
        }
        let load = Load::start(&vm.base, &g.vkey, &g.admin, &acked, &seq);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Long enough for group commits, checkpoints and memtable flushes to be in flight,
        // short of ext4's five-second journal commit, which would hide a missing fsync.
        std::thread::sleep(Duration::from_millis(1000 + rng % 2500));
        vm.kill();
        seen.extend(load.stop());
    }
    Ok(Summary {
        cycles,
        acknowledged: acked.lock().unwrap().len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

struct Summary {
    cycles: u64,
    acknowledged: usize,
    seconds: f64,
}

#[test]
fn power_loss_under_load_loses_nothing_acknowledged() {
    if let Some(why) = missing() {
        eprintln!("power_loss: {why}: not run");
        return;
    }
    let n: u64 = std::env::var("GLASSLOG_POWERLOSS_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let g = Guest::build();
    let s = cycles(&g, n, false).unwrap_or_else(|(_, e)| panic!("{e}"));
    println!(
        "power-loss test: {} power losses, {} acknowledged entries, none lost, no fork, {:.0} s",
        s.cycles, s.acknowledged, s.seconds
    );
}

/// The control: with fsync turned off the same harness must find acknowledged entries gone
/// (or a log that no longer opens), or it would not catch a missing fsync either.
#[test]
fn power_loss_with_fsync_off_is_caught() {
    if let Some(why) = missing() {
        eprintln!("power_loss: {why}: not run");
        return;
    }
    let g = Guest::build();
    match cycles(&g, 3, true) {
        Ok(s) => panic!(
            "{} power losses with fsync off lost nothing of {} acknowledged entries: the harness cannot see a missing fsync",
            s.cycles, s.acknowledged
        ),
        Err((0, e)) => panic!("the control's machine did not start: {e}"),
        Err((_, e)) => println!("power-loss control (fsync off) caught: {e}"),
    }
}
