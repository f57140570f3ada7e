#!/usr/bin/env python3
"""Runs detect-secrets and CredSweeper (both from PyPI) over a JSON Lines corpus and writes
their findings in the format the scorers read: {"id": ..., "findings": [{"start": S, "end": E}]}
with UTF-8 byte offsets into the case's text, and how long each took.

    pip install detect-secrets==1.5.0 credsweeper
    python3 benches/secrets/peers.py corpus.jsonl detect-secrets > ds.findings.jsonl
    python3 benches/secrets/peers.py corpus.jsonl credsweeper > cs.findings.jsonl

detect-secrets runs its default plugins and filters line by line (`scan_line`); CredSweeper runs
as its command line does (rules, filters and its ML validation at the default threshold) over a
directory with one file per case. Each reported value is located in its line; a value that
cannot be located is counted as a finding at offset 0 so it still weighs on precision.
"""
import json
import os
import subprocess
import sys
import tempfile
import time


def line_offsets(text):
    starts, at = [], 0
    for line in text.split("\n"):
        starts.append(at)
        at += len(line.encode()) + 1
    return starts


def detect_secrets(rows):
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings
    out = {}
    with default_settings():
        for r in rows:
            spans = set()
            starts = line_offsets(r["text"])
            for n, line in enumerate(r["text"].split("\n")):
                for sec in scan_line(line):
                    value = sec.secret_value or ""
                    at = line.find(value) if value else -1
                    if at >= 0:
                        s = starts[n] + len(line[:at].encode())
                        spans.add((s, s + len(value.encode())))
                    else:
                        spans.add((0, 1))
            out[r["id"]] = sorted(spans)
    return out


def credsweeper(rows):
    out = {r["id"]: set() for r in rows}
    with tempfile.TemporaryDirectory() as d:
        names = {}
        for i, r in enumerate(rows):
            name = f"case{i:06d}.txt"
            names[name] = r
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(r["text"])
        report = os.path.join(d, "report.json")
        subprocess.run([sys.executable, "-m", "credsweeper", "--path", d, "--save-json", report,
                        "--no-stdout", "--jobs", "1"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(report, encoding="utf-8") as f:
            found = json.load(f)
        for cand in found:
            for ld in cand.get("line_data_list", []):
                name = os.path.basename(ld.get("path", ""))
                r = names.get(name)
                if r is None:
                    continue
                lines = r["text"].split("\n")
                n = int(ld.get("line_num", 1)) - 1
                value = ld.get("value") or ""
                if 0 <= n < len(lines) and value and value in lines[n]:
                    line = lines[n]
                    at = line.find(value)
                    s = line_offsets(r["text"])[n] + len(line[:at].encode())
                    out[r["id"]].add((s, s + len(value.encode())))
                else:
                    out[r["id"]].add((0, 1))
    return {k: sorted(v) for k, v in out.items()}


def main():
    corpus, tool = sys.argv[1], sys.argv[2]
    rows = [json.loads(l) for l in open(corpus, encoding="utf-8") if l.strip()]
    started = time.perf_counter()
    found = {"detect-secrets": detect_secrets, "credsweeper": credsweeper}[tool](rows)
    elapsed = time.perf_counter() - started
    nbytes = sum(len(r["text"].encode()) for r in rows)
    for r in rows:
        print(json.dumps({"id": r["id"], "findings": [{"start": s, "end": e} for s, e in found.get(r["id"], [])]}))
    print(f"{tool}: {len(rows)} cases, {nbytes} bytes in {elapsed:.1f} s ({nbytes / elapsed / 1e6:.3f} MB/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
