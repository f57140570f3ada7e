#!/usr/bin/env python3
"""Checks the deployment files without a Docker engine: docker-compose.yml parses and is wired
consistently (images, volumes, health checks, mounted files, key provisioning), the Dockerfile
is multi-stage and ships the one binary, and the systemd unit has what it needs. With the
`docker compose` CLI present, its own parser checks the file too."""
import re, shutil, subprocess, sys, tomllib
from pathlib import Path

try:
    import yaml
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "pyyaml"])
    import yaml

root = Path(__file__).resolve().parent.parent
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

compose = yaml.safe_load((root / "docker-compose.yml").read_text())
services = compose.get("services", {})
check(set(services) >= {"keys", "glasslog", "witness", "monitor"}, f"services: {sorted(services)}")
declared = set((compose.get("volumes") or {}).keys())
used = set()
for name, svc in services.items():
    check("image" in svc or "build" in svc, f"{name}: no image or build")
    if "build" in svc:
        ctx = root / svc["build"].get("context", ".")
        check((ctx / svc["build"].get("dockerfile", "Dockerfile")).is_file(), f"{name}: Dockerfile missing")
    if name != "keys":
        hc = svc.get("healthcheck", {})
        check(isinstance(hc.get("test"), list) and hc["test"][0] == "CMD", f"{name}: no CMD health check")
    for v in svc.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith("."):
            check((root / src).exists(), f"{name}: mounted {src} does not exist")
        else:
            used.add(src)
    for dep, cond in (svc.get("depends_on") or {}).items():
        check(dep in services, f"{name}: depends on unknown {dep}")
        check(cond.get("condition") in {"service_started", "service_healthy", "service_completed_successfully"},
              f"{name}: bad depends_on condition")
check(used == declared, f"volumes used {sorted(used)} != declared {sorted(declared)}")
check(services["glasslog"]["depends_on"]["keys"]["condition"] == "service_completed_successfully",
      "the server must wait for its keys")
check(any("8080" in p for p in services["glasslog"].get("ports", [])), "server port not published")

# The PostgreSQL-backed profile: the same server on a database it waits for.
pg = services.get("glasslog-pg", {})
check("postgres" in pg.get("profiles", []) and "postgres" in services.get("postgres", {}).get("profiles", []),
      "no postgres profile with a database and a glasslog-pg front-end")
check((pg.get("depends_on") or {}).get("postgres", {}).get("condition") == "service_healthy",
      "glasslog-pg must wait for a healthy database")
check("--store" in " ".join(pg.get("command", [])), "glasslog-pg does not use the database")

# The mounted server config parses and points at the volumes the server mounts.
cfg = tomllib.loads((root / "deploy/glasslog.toml").read_text())
mounts = [v.split(":")[1] for v in services["glasslog"]["volumes"]]
for key in ("data_dir", "key_file", "vkey_file"):
    check(any(str(cfg[key]).startswith(m) for m in mounts), f"deploy/glasslog.toml {key} is on no mounted volume")
check(cfg["witnesses"][0]["url"].startswith("http://witness:"), "the server's witness is not the compose witness")

dockerfile = (root / "Dockerfile").read_text()
stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", dockerfile, re.M | re.I)
check(len(stages) >= 2, "Dockerfile is not multi-stage")
check("cargo build --release --locked -p glasslog" in dockerfile, "Dockerfile does not build the binary")
check("USER glasslog" in dockerfile, "Dockerfile runs as root")
for d in ("data", "keys", "public", "witness", "monitor"):
    check(f"/var/lib/glasslog/{d}" in dockerfile, f"Dockerfile does not create /var/lib/glasslog/{d}")

unit = (root / "deploy/glasslog.service").read_text()
for line in ("ExecStart=/usr/local/bin/glasslog serve", "User=glasslog", "KillSignal=SIGTERM", "[Install]"):
    check(line in unit, f"glasslog.service lacks {line}")

if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
    r = subprocess.run(["docker", "compose", "-f", str(root / "docker-compose.yml"), "config", "-q"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"docker compose config: {r.stderr.strip()}")
    print("docker compose config: checked")

if errors:
    print("deployment files:", *errors, sep="\n  ")
    sys.exit(1)
print(f"deployment files OK: {len(services)} services, {len(declared)} volumes")
