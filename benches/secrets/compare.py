#!/usr/bin/env python3
"""Side-by-side scores of several detectors' findings on one labelled corpus, per split.

    python3 benches/secrets/compare.py corpus.jsonl glasslog=g.jsonl detect-secrets=ds.jsonl ...

Per split (`split` field; the whole corpus when absent) and tool: recall (a secret overlapped
by a finding), full cover (every byte of every secret span inside the union of findings: the
redaction measure), precision (findings that overlap a secret / all findings, over positive and
negative cases), and the share of negative cases with any finding. Definitions of recall and
full cover are those of ../shared/secrets-dev/score.py.
"""
import json
import sys
from collections import defaultdict


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def merged(iv):
    out = []
    for s, e in sorted(iv):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def score(cases, found):
    tp = rec = full = fnd = tfnd = neg = neghit = 0
    for c in cases:
        fs = [(f["start"], f["end"]) for f in found.get(c["id"], [])]
        spans = [tuple(x) for x in c.get("secret_spans") or []]
        fnd += len(fs)
        tfnd += sum(1 for a, b in fs if any(a < e and s < b for s, e in spans))
        if c["label"] == "tp":
            tp += 1
            rec += any(a < e and s < b for s, e in spans for a, b in fs)
            u = merged(fs)
            full += all(any(a <= s and e <= b for a, b in u) for s, e in spans)
        else:
            neg += 1
            neghit += bool(fs)
    pct = lambda a, b: f"{100 * a / b:6.2f}%" if b else "   n/a"  # noqa: E731
    return f"recall {pct(rec, tp)}  full cover {pct(full, tp)}  precision {pct(tfnd, fnd)}  negatives flagged {pct(neghit, neg)}  ({tp} positive, {neg} negative cases, {fnd} findings)"


def main():
    cases = load(sys.argv[1])
    tools = []
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        tools.append((name, {r["id"]: r["findings"] for r in load(path)}))
    splits = defaultdict(list)
    for c in cases:
        splits[c.get("split", "all")].append(c)
    for split in sorted(splits):
        print(f"== {split}")
        for name, found in tools:
            print(f"  {name:15} {score(splits[split], found)}")


if __name__ == "__main__":
    main()
