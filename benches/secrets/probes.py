#!/usr/bin/env python3
"""Two probes of the detectors' generality, written from syntax and from other scanners' test
shapes rather than from the rules (BENCHMARKS.md, issue #11 session 3).

    python3 benches/secrets/probes.py syntax  > /tmp/syntax.jsonl    # 1,008 cases
    python3 benches/secrets/probes.py near    > /tmp/near.jsonl      # 162 cases
    target/release/examples/findings < /tmp/syntax.jsonl > /tmp/syntax.out
    python3 benches/secrets/probes.py score /tmp/syntax.jsonl /tmp/syntax.out [FIELD]

`syntax`: a service's name with Token, _token, _TOKEN, ApiKey, _CLIENT_SECRET or .api.secret
in front of a random value, in the assignment syntaxes of common languages and config formats.
`near`: a key a few words after a service's name or a credential word, with no operator, for
12 services in PROVIDER_NAMES and 6 made-up ones. `score` prints misses and partial covers,
grouped by the id's FIELD-th part (0: form, 1: shape or group). Standard library only.
"""
import collections
import json
import random
import string
import sys

AN = string.ascii_letters + string.digits


def syntax():
    rnd = random.Random(7)
    r = lambda n, cs=AN: "".join(rnd.choice(cs) for _ in range(n))
    shapes = {
        "alnum32": lambda: r(32), "lower32": lambda: r(32, string.ascii_lowercase + string.digits),
        "hex40": lambda: r(40, "0123456789abcdef"), "hex32": lambda: r(32, "0123456789abcdef"),
        "b64_44": lambda: r(43, AN + "+/") + "=", "urlsafe43": lambda: r(43, AN + "-_"),
        "digits16": lambda: r(16, string.digits), "upper20": lambda: r(20, string.ascii_uppercase + string.digits),
    }
    forms = {
        "ini-q1": '{i}Token="{s}"', "ini-q2": '{i}Token = "{s}"', "ini-u1": "{i}Token={s}", "ini-u2": "{i}Token = {s}",
        "json": '{{\n    "{i}_token": "{s}"\n}}', "json-esc": '\\{{\n    \\"{i}_token\\": \\"{s}\\"\n\\}}',
        "xml": "<{i}Token>{s}</{i}Token>", "xml-ml": "<{i}Token>\n    {s}\n</{i}Token>",
        "yaml-u": "{i}_token: {s}", "yaml-sq": "{i}_token: '{s}'", "yaml-dq": '{i}_token: "{s}"',
        "yaml-lit": "{i}_token: |\n  {s}", "yaml-fold": "{i}_token: >\n  {s}",
        "cs": 'string {i}Token = "{s}";', "go": 'var {i}Token string = "{s}"', "go-short": '{i}Token := "{s}"',
        "go-bt": "{i}Token := `{s}`", "java": 'String {i}Token = "{s}";', "kotlin": 'var {i}Token = "{s}"',
        "php": '${i}Token .= "{s}"', "py-sq": "{i}Token = '{s}'", "py-dq": '{i}Token = "{s}"',
        "csv": "{i}Token,{s},", "logstash": '  "{i}Token" => "{s}"',
        "make-rec": '{i}_TOKEN = "{s}"', "make-simple": '{i}_TOKEN := "{s}"', "make-shell": '{i}_TOKEN ::= "{s}"',
        "make-eval": '{i}_TOKEN :::= "{s}"', "make-cond": '{i}_TOKEN ?= "{s}"', "make-append": '{i}_TOKEN += "{s}"',
        "env-export": "export {I}_API_KEY={s}", "secret-suffix": "{i}_secret={s}", "key-suffix": '{i}_key: "{s}"',
        "apikey-camel": '{i}ApiKey = "{s}"', "kotlin-typed": 'val {i}Token: String = "{s}"',
        "php-arr": "'{i}_token' => '{s}',", "rb-sym": '{i}_token: "{s}",', "ts-const": 'const {i}Secret = "{s}";',
        "toml": '{i}_api_key = "{s}"', "props": "{i}.api.token={s}", "xml-attr": '<add key="{i}Token" value="{s}" />',
        "header": "X-{I}-Token: {s}",
    }
    for fname, f in forms.items():
        for sname, gen in shapes.items():
            for i in ["adafruit", "asana", "zendesk"]:
                s = gen()
                text = f.replace("{i}", i).replace("{I}", i.upper()).replace("{s}", s).replace("{{", "{").replace("}}", "}")
                yield {"id": f"{fname}|{sname}|{i}", "text": text, "secret": s}


def near():
    rnd = random.Random(11)
    r = lambda n, cs=AN: "".join(rnd.choice(cs) for _ in range(n))
    known = ["mailgun", "datadog", "zendesk", "fastly", "okta", "twitch", "kraken", "asana", "finnhub",
             "sumologic", "pagerduty", "algolia"]
    unknown = ["acmepay", "zapflow", "cloudnest", "quikbill", "logspire", "mintsms"]
    shapes = [lambda: r(32), lambda: r(40, "0123456789abcdef"), lambda: r(32, "0123456789abcdef"),
              lambda: r(45, AN + "_-"), lambda: r(24)]
    forms = ["{p} '{s}'", "{p} key: {s}", "{p} token - '{s}'", "[INFO] connecting to {p} with {s}",
             "{P}_SECRET={s}", "{p}: {s}", "using {p} credentials {s} for sync", '"{p}": "{s}"', "{p}\napi key {s}"]
    for group, provs in (("known", known), ("unknown", unknown)):
        for f in forms:
            for p in provs:
                s = rnd.choice(shapes)()
                yield {"id": f"{group}|{f}|{p}", "text": f.replace("{p}", p).replace("{P}", p.upper()).replace("{s}", s), "secret": s}


def score(cases_path, findings_path, field=0):
    cases = {c["id"]: c for c in map(json.loads, open(cases_path))}
    miss, part, total, example = collections.Counter(), collections.Counter(), collections.Counter(), {}
    for r in map(json.loads, open(findings_path)):
        c = cases[r["id"]]
        text, secret = c["text"].encode(), c["secret"].encode()
        a = text.find(secret)
        b = a + len(secret)
        key = r["id"].split("|")[field]
        total[key] += 1
        hit = [f for f in r["findings"] if f["start"] < b and f["end"] > a]
        full = any(f["start"] <= a and f["end"] >= b for f in r["findings"])
        if not hit:
            miss[key] += 1
            example.setdefault(key, c["text"])
        elif not full:
            part[key] += 1
            example.setdefault(key, c["text"])
    print(f"missed {sum(miss.values())} partial {sum(part.values())} of {sum(total.values())}")
    for k in total:
        if miss[k] or part[k]:
            print(f"{k:14} miss {miss[k]:3} part {part[k]:3} / {total[k]}  e.g. {example[k]!r}")


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd in ("syntax", "near"):
        for c in (syntax() if cmd == "syntax" else near()):
            print(json.dumps(c))
    elif cmd == "score":
        score(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
