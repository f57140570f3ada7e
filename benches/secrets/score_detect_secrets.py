#!/usr/bin/env python3
"""Scores detect-secrets (Yelp, default plugins and filters) on corpus.jsonl with the same
definitions as glasslog's scorer (crates/ingest/tests/it/corpus.rs): a planted secret is caught
when a reported secret value overlaps it; a finding is true when it overlaps a planted secret.
Also reports throughput on the same text. Usage: python3 score_detect_secrets.py corpus.jsonl
"""
import json, sys, time
from detect_secrets.core.scan import scan_line
from detect_secrets.settings import default_settings

def main(path):
    rows = [json.loads(l) for l in open(path)]
    planted = caught = findings = true_findings = 0
    per_rule_miss = {}
    nbytes = sum(len(r["text"].encode()) for r in rows)
    start = time.perf_counter()
    with default_settings():
        for r in rows:
            text = r["text"]
            spans = [(text.find(s), text.find(s) + len(s)) for s in r["secrets"] if text.find(s) >= 0]
            reported = []
            for line in text.split("\n"):
                for sec in scan_line(line):
                    value = sec.secret_value or ""
                    at = text.find(value) if value else -1
                    reported.append((at, at + len(value)) if at >= 0 else (-1, -1))
            # Several plugins often report the same value: count each distinct span once.
            reported = sorted(set(reported))
            for (a, b) in spans:
                planted += 1
                if any(x < b and a < y for (x, y) in reported):
                    caught += 1
                else:
                    per_rule_miss[r["rule"]] = per_rule_miss.get(r["rule"], 0) + 1
            for (x, y) in reported:
                findings += 1
                if any(x < b and a < y for (a, b) in spans):
                    true_findings += 1
    elapsed = time.perf_counter() - start
    print(f"detect-secrets: {len(rows)} lines, {planted} planted, {findings} findings")
    print(f"recall {100*caught/planted:.2f}% ({caught}/{planted}), precision {100*true_findings/max(findings,1):.2f}% ({true_findings}/{findings})")
    print(f"throughput {nbytes/elapsed/1e6:.2f} MB/s ({nbytes} bytes in {elapsed:.2f} s)")
    print(f"rule types with at least one miss: {len(per_rule_miss)} of {len(set(r['rule'] for r in rows if r['rule']))}")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpus.jsonl")
