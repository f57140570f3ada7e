(() => {
  // src/api.js
  var token = null;
  var ApiError = class extends Error {
    constructor(status, problem2, path) {
      super(problem2?.detail ?? problem2?.title ?? `HTTP ${status} from ${path}`);
      this.name = "ApiError";
      this.status = status;
      this.problem = problem2;
    }
  };
  function signIn(t) {
    token = t && t.trim() ? t.trim() : null;
  }
  function signOut() {
    token = null;
  }
  var signedIn = () => token !== null;
  async function request(path, { method = "GET", body, accept = "application/json" } = {}) {
    const headers = { Accept: accept };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== void 0) headers["Content-Type"] = "application/json";
    const resp = await fetch(path, {
      method,
      headers,
      body: body === void 0 ? void 0 : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    });
    if (!resp.ok) {
      let problem2 = null;
      try {
        problem2 = await resp.json();
      } catch {
      }
      throw new ApiError(resp.status, problem2, path);
    }
    return resp;
  }
  var get = (path) => request(path);
  var getJson = async (path) => (await request(path)).json();
  var getText = async (path) => (await request(path, { accept: "text/plain" })).text();
  var postJson = async (path, body) => (await request(path, { method: "POST", body })).json();

  // src/dom.js
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (v === void 0 || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    append(el, children);
    return el;
  }
  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === void 0 || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  function fill(el, ...children) {
    el.replaceChildren();
    append(el, children);
    return el;
  }
  var MARKER = /\[REDACTED:([a-z0-9_.:-]+?):([0-9a-f]{8,64})\]/g;
  function withMarkers(text) {
    const out = [];
    let last = 0;
    for (const m of text.matchAll(MARKER)) {
      out.push(text.slice(last, m.index));
      out.push(h("mark", { class: "redacted", title: `redacted by rule ${m[1]} (fingerprint ${m[2]})`, "data-rule": m[1] }, m[0]));
      last = m.index + m[0].length;
    }
    out.push(text.slice(last));
    return out;
  }
  function markerRules(text) {
    return [...new Set(Array.from(text.matchAll(MARKER), (m) => m[1]))];
  }
  function time(ms) {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
    return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  // src/verify.js
  var subtle = globalThis.crypto.subtle;
  var enc = new TextEncoder();
  var VerifyError = class extends Error {
    constructor(message) {
      super(message);
      this.name = "VerifyError";
    }
  };
  var B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  function fromBase64(s) {
    if (typeof s !== "string" || !B64.test(s)) throw new VerifyError("not standard base64");
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function toBase64(bytes) {
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  }
  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }
  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest("SHA-256", bytes));
  }
  function leafHash(entry) {
    return sha256(concat(Uint8Array.of(0), entry));
  }
  var SEALED_MAGIC = Uint8Array.of(0, 103, 108, 115, 49);
  var COMMITMENT_DOMAIN = enc.encode("glasslog/v1/commitment\0");
  async function sealedLeafData(plaintext, sealed) {
    const record2 = bytesArg(sealed?.record_base64, "the sealed record");
    const salt = bytesArg(sealed?.salt_base64, "the salt");
    if (salt.length !== 32) throw new VerifyError("the salt is not 32 bytes");
    if (record2.length < 141 || !SEALED_MAGIC.every((b, i) => record2[i] === b)) throw new VerifyError("not a sealed record");
    const c = await sha256(concat(COMMITMENT_DOMAIN, salt, plaintext));
    if (!c.every((b, i) => record2[5 + i] === b)) throw new VerifyError("the entry is not what its sealed record commits to");
    return record2;
  }
  function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
  }
  function bytesArg(h2, what) {
    const b = typeof h2 === "string" ? fromBase64(h2) : h2;
    if (!(b instanceof Uint8Array)) throw new VerifyError(`${what} is not bytes`);
    return b;
  }
  function hashArg(h2, what) {
    const b = bytesArg(h2, what);
    if (b.length !== 32) throw new VerifyError(`${what} is not a 32-byte hash`);
    return b;
  }
  function sizeArg(n, what) {
    if (!Number.isSafeInteger(n) || n < 0) throw new VerifyError(`${what} is not a non-negative integer`);
    return n;
  }
  var big = (n) => BigInt(n);
  async function verifyInclusion(index, size, leaf, proof, root) {
    sizeArg(index, "the leaf index");
    sizeArg(size, "the tree size");
    leaf = hashArg(leaf, "the leaf hash");
    root = hashArg(root, "the root");
    const path = proof.map((p, i) => hashArg(p, `proof hash ${i}`));
    if (index >= size) throw new VerifyError(`leaf index ${index} is not below tree size ${size}`);
    let fn = big(index);
    let sn = big(size) - 1n;
    let r = leaf;
    const steps = [];
    for (const p of path) {
      if (sn === 0n) throw new VerifyError("the proof is longer than the tree is deep");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        steps.push({ side: "left", sibling: p, result: r });
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
        steps.push({ side: "right", sibling: p, result: r });
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new VerifyError("the proof is shorter than the tree is deep");
    if (!equal(r, root)) throw new VerifyError("the proof does not lead to the checkpoint's root");
    return steps;
  }
  async function verifyConsistency(size1, size2, root1, root2, proof) {
    sizeArg(size1, "the old size");
    sizeArg(size2, "the new size");
    root1 = bytesArg(root1, "the old root");
    root2 = bytesArg(root2, "the new root");
    const path = proof.map((p, i) => hashArg(p, `proof hash ${i}`));
    if (size2 < size1) throw new VerifyError(`the tree shrank from ${size1} to ${size2}: a rollback`);
    if (size1 === 0) throw new VerifyError("a consistency proof from the empty tree proves nothing");
    if (size1 === size2) {
      if (path.length !== 0) throw new VerifyError("equal sizes need an empty proof");
      if (!equal(root1, root2)) throw new VerifyError("same size, different roots: a fork");
      return;
    }
    if (path.length === 0) throw new VerifyError("the proof is empty");
    let fn = big(size1) - 1n;
    let sn = big(size2) - 1n;
    while ((fn & 1n) === 1n) {
      fn >>= 1n;
      sn >>= 1n;
    }
    const isPow2 = (big(size1) & big(size1) - 1n) === 0n;
    const nodes = isPow2 ? [root1, ...path] : path;
    let fr = nodes[0];
    let sr = nodes[0];
    for (const c of nodes.slice(1)) {
      if (sn === 0n) throw new VerifyError("the proof is longer than needed");
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new VerifyError("the proof is shorter than needed");
    if (!equal(fr, root1)) throw new VerifyError("the proof does not reproduce the old root: a fork");
    if (!equal(sr, root2)) throw new VerifyError("the proof does not reproduce the new root: a fork");
  }
  var ALG_ED25519 = 1;
  var ALG_COSIGNATURE_V1 = 4;
  async function keyId(name, alg, pub) {
    return (await sha256(concat(enc.encode(name), Uint8Array.of(10, alg), pub))).slice(0, 4);
  }
  function validKeyName(name) {
    return name.length > 0 && !/[\s+]/u.test(name);
  }
  function splitVerifierKey(vkey) {
    const m = /^([^+]*)\+([^+]*)\+(.*)$/su.exec(vkey.trim());
    if (!m) throw new VerifyError("a verifier key is <name>+<key id>+<key>");
    return m.slice(1);
  }
  async function parseVerifierKey(vkey) {
    if (typeof vkey !== "string") throw new VerifyError("a verifier key is a string");
    const [name, idHex, b64] = splitVerifierKey(vkey);
    if (!validKeyName(name)) throw new VerifyError("the verifier key's name is empty or has spaces");
    if (!/^[0-9a-f]{8}$/.test(idHex)) throw new VerifyError("the verifier key's ID is not 8 hex digits");
    const raw = fromBase64(b64);
    const alg = raw[0];
    if (alg !== ALG_ED25519 && alg !== ALG_COSIGNATURE_V1)
      throw new VerifyError(`verifier keys of type 0x${(alg ?? 0).toString(16).padStart(2, "0")} are not supported here`);
    const pub = raw.slice(1);
    if (pub.length !== 32) throw new VerifyError("an Ed25519 public key is 32 bytes");
    const id = await keyId(name, alg, pub);
    if (toHex(id) !== idHex) throw new VerifyError("the verifier key's ID does not match its name and key");
    let key;
    try {
      key = await subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      throw new VerifyError(`this browser cannot import Ed25519 keys (${e.message})`);
    }
    return { name, id, alg, publicKey: pub, key, vkey: vkey.trim() };
  }
  var SIG_PREFIX = "— ";
  function splitNote(note) {
    if (typeof note !== "string") throw new VerifyError("a note is text");
    if (note.includes("\r")) throw new VerifyError("a note has no carriage returns");
    const at = note.lastIndexOf("\n\n");
    if (at < 0) throw new VerifyError("the note has no signature block");
    const text = note.slice(0, at + 1);
    const block = note.slice(at + 2);
    if (!block.endsWith("\n")) throw new VerifyError("the note's last line does not end in a newline");
    const sigs = [];
    for (const line of block.slice(0, -1).split("\n")) {
      if (!line.startsWith(SIG_PREFIX)) throw new VerifyError("a signature line does not start with an em dash");
      const rest = line.slice(SIG_PREFIX.length);
      const sp = rest.indexOf(" ");
      if (sp <= 0) throw new VerifyError("a signature line is <name> <base64>");
      const name = rest.slice(0, sp);
      const blob = fromBase64(rest.slice(sp + 1));
      if (blob.length < 5) throw new VerifyError("a signature is at least a key ID and one byte");
      sigs.push({ name, id: blob.slice(0, 4), sig: blob.slice(4), line });
    }
    if (sigs.length === 0) throw new VerifyError("the note has no signatures");
    return { text, sigs };
  }
  async function verifyNote(note, keys) {
    const { text, sigs } = splitNote(note);
    const body = enc.encode(text);
    const verified = [];
    const unknown = [];
    const cosignatures = [];
    for (const s of sigs) {
      const k = keys.find((k2) => k2.name === s.name && equal(k2.id, s.id));
      if (!k) {
        unknown.push(s.name);
        continue;
      }
      if (k.alg === ALG_ED25519) {
        if (s.sig.length !== 64) throw new VerifyError(`${s.name}'s signature is not 64 bytes`);
        if (!await subtle.verify({ name: "Ed25519" }, k.key, s.sig, body))
          throw new VerifyError(`${s.name}'s signature does not verify: the note was altered`);
        verified.push({ name: s.name, keyId: toHex(s.id) });
      } else {
        if (s.sig.length !== 72) throw new VerifyError(`${s.name}'s cosignature is not 72 bytes`);
        const ts = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
        const msg = concat(enc.encode(`cosignature/v1
time ${ts}
`), body);
        if (!await subtle.verify({ name: "Ed25519" }, k.key, s.sig.slice(8), msg))
          throw new VerifyError(`${s.name}'s cosignature does not verify`);
        cosignatures.push({ name: s.name, keyId: toHex(s.id), timestamp: Number(ts) });
      }
    }
    if (verified.length === 0 && cosignatures.length === 0)
      throw new VerifyError("no signature on the note is by a key you trust");
    return { text, verified, unknown, cosignatures };
  }
  function parseCheckpoint(text) {
    if (!text.endsWith("\n")) throw new VerifyError("a checkpoint ends in a newline");
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3) throw new VerifyError("a checkpoint has an origin, a size and a root");
    const [origin, sizeLine, rootLine, ...extensions] = lines;
    if (origin.length === 0) throw new VerifyError("the checkpoint's origin is empty");
    if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw new VerifyError("the checkpoint's size is not a decimal number");
    const size = Number(sizeLine);
    if (!Number.isSafeInteger(size)) throw new VerifyError("the checkpoint's size is too large for this console");
    const root = fromBase64(rootLine);
    if (root.length !== 32) throw new VerifyError("the checkpoint's root is not 32 bytes");
    if (extensions.some((l) => l.length === 0)) throw new VerifyError("a checkpoint has no empty lines");
    return { origin, size, root, rootBase64: rootLine, extensions };
  }
  async function verifyCheckpoint(note, logKey, witnessKeys2 = [], origin = logKey.name) {
    const v = await verifyNote(note, [logKey, ...witnessKeys2]);
    if (!v.verified.some((s) => s.name === logKey.name))
      throw new VerifyError("the checkpoint is not signed by the log's key");
    const cp = parseCheckpoint(v.text);
    if (cp.origin !== origin) throw new VerifyError(`the checkpoint is for ${cp.origin}, not ${origin}`);
    return { ...cp, note, text: v.text, cosignatures: v.cosignatures, unknownSigners: v.unknown };
  }
  async function checkAgainstLast(last, next, proof) {
    if (!last) return "first";
    if (next.size < last.size)
      throw new VerifyError(`rollback: the log shows size ${next.size}, but this browser verified ${last.size} before`);
    if (next.size === last.size) {
      if (!equal(fromBase64(last.rootBase64), next.root))
        throw new VerifyError(`fork: two different roots for size ${next.size}`);
      return "same";
    }
    if (last.size === 0) return "grown";
    await verifyConsistency(last.size, next.size, fromBase64(last.rootBase64), next.root, proof);
    return "grown";
  }
  var TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";
  function parseTlogProof(text) {
    if (typeof text !== "string") throw new VerifyError("a tlog-proof is text");
    const lines = text.split("\n");
    if (lines[0] !== TLOG_PROOF_HEADER) throw new VerifyError(`the first line is not ${TLOG_PROOF_HEADER}`);
    let at = 1;
    let extra = null;
    if (lines[at]?.startsWith("extra ")) {
      extra = fromBase64(lines[at].slice("extra ".length));
      at++;
    }
    const m = /^index (0|[1-9][0-9]*)$/.exec(lines[at] ?? "");
    if (!m) throw new VerifyError("the index line is missing or not a decimal without leading zeros");
    const index = Number(m[1]);
    if (!Number.isSafeInteger(index)) throw new VerifyError("the index is too large for this console");
    at++;
    const proof = [];
    for (; at < lines.length && lines[at] !== ""; at++) {
      const h2 = fromBase64(lines[at]);
      if (h2.length !== 32) throw new VerifyError(`proof line ${proof.length + 1} is not a 32-byte hash`);
      proof.push(h2);
    }
    if (at >= lines.length) throw new VerifyError("no empty line before the checkpoint");
    const checkpoint = lines.slice(at + 1).join("\n");
    if (!checkpoint) throw new VerifyError("the checkpoint is missing");
    return { extra, index, proof, checkpoint };
  }
  async function verifyTlogProof(text, logKey, { leaf, witnessKeys: witnessKeys2 = [], policy } = {}) {
    const p = parseTlogProof(text);
    const cp = policy ? await verifyWithPolicy(p.checkpoint, policy, logKey) : await verifyCheckpoint(p.checkpoint, logKey, witnessKeys2);
    if (!leaf) {
      if (!p.extra) throw new VerifyError("the proof carries no entry (extra), and none was given");
      leaf = await leafHash(p.extra);
    }
    const steps = await verifyInclusion(p.index, cp.size, leaf, p.proof, cp.root);
    return { ...p, checkpoint: cp, steps };
  }
  async function parsePolicy(text) {
    if (typeof text !== "string" || text.includes("\r")) throw new VerifyError("a policy is LF-terminated text");
    const logs = [];
    const witnesses = [];
    const items = /* @__PURE__ */ new Map([["none", { kind: "none" }]]);
    const keys = /* @__PURE__ */ new Set();
    let quorum = null;
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const f = line.split(/[ \t]+/);
      if (f[0] === "log") {
        if (f.length < 2 || f.length > 3) throw new VerifyError("log <vkey> [<url>]");
        const k = await parseVerifierKey(f[1]);
        if (k.alg !== ALG_ED25519) throw new VerifyError("a log key signs notes (type 0x01)");
        dup(keys, k.publicKey);
        logs.push(k);
      } else if (f[0] === "witness") {
        if (f.length < 3 || f.length > 4) throw new VerifyError("witness <name> <vkey> [<url>]");
        if (items.has(f[1])) throw new VerifyError(`${f[1]} is defined twice`);
        const raw2 = fromBase64(splitVerifierKey(f[2])[2]);
        const type = raw2[0];
        if (type !== ALG_COSIGNATURE_V1 && type !== 6) throw new VerifyError(`witness ${f[1]}'s key is not a cosignature key`);
        const key = type === ALG_COSIGNATURE_V1 ? await parseVerifierKey(f[2]) : null;
        dup(keys, raw2.slice(1));
        const w = { kind: "witness", name: f[1], key, type };
        witnesses.push(w);
        items.set(f[1], w);
      } else if (f[0] === "group") {
        if (f.length < 4) throw new VerifyError("group <name> all|any|<k> <member>...");
        const [, name, t, ...members] = f;
        if (items.has(name)) throw new VerifyError(`${name} is defined twice`);
        if (new Set(members).size !== members.length) throw new VerifyError(`group ${name} lists a member twice`);
        for (const m of members)
          if (!items.has(m) || m === "none") throw new VerifyError(`group ${name}'s member ${m} is not defined before it`);
        const k = t === "all" ? members.length : t === "any" ? 1 : /^[1-9][0-9]*$/.test(t) ? Number(t) : NaN;
        if (!(k >= 1 && k <= members.length)) throw new VerifyError(`group ${name}'s threshold ${t} is not 1 to ${members.length}`);
        items.set(name, { kind: "group", name, k, members });
      } else if (f[0] === "quorum") {
        if (f.length !== 2) throw new VerifyError("quorum <name>|none");
        if (quorum !== null) throw new VerifyError("a policy has one quorum");
        if (!items.has(f[1])) throw new VerifyError(`the quorum ${f[1]} is not defined before it`);
        quorum = f[1];
      } else {
        throw new VerifyError(`unknown policy line: ${f[0]}`);
      }
    }
    if (quorum === null) throw new VerifyError("the policy has no quorum");
    return { logs, witnesses, items, quorum };
  }
  function dup(seen, pub) {
    const k = toHex(pub);
    if (seen.has(k)) throw new VerifyError("the same key is listed twice");
    seen.add(k);
  }
  async function verifyWithPolicy(note, policy, logKey = null) {
    const logs = policy.logs.length ? policy.logs : logKey ? [logKey] : [];
    const origin = parseCheckpoint(splitNote(note).text).origin;
    const key = logs.find((k) => k.name === origin);
    if (!key) throw new VerifyError(`the policy lists no log key for ${origin}`);
    const cp = await verifyCheckpoint(note, key, policy.witnesses.filter((w) => w.key).map((w) => w.key));
    if (!policyMet(policy, cp.cosignatures))
      throw new VerifyError(`the cosignatures do not meet the policy's quorum ${policy.quorum}`);
    return cp;
  }
  function policyMet(policy, cosignatures) {
    const signed = new Set(cosignatures.map((c) => `${c.name}+${c.keyId}`));
    const met = (name) => {
      const it = policy.items.get(name);
      if (it.kind === "none") return true;
      if (it.kind === "witness") return it.key !== null && signed.has(`${it.key.name}+${toHex(it.key.id)}`);
      return it.members.filter(met).length >= it.k;
    };
    return met(policy.quorum);
  }

  // src/monitor.js
  var KEY_PIN = "glasslog.vkey";
  var lastKey = (origin) => `glasslog.last.${origin}`;
  var alarmKey = (origin) => `glasslog.alarm.${origin}`;
  function load(k) {
    try {
      return JSON.parse(localStorage.getItem(k) ?? "null");
    } catch {
      return null;
    }
  }
  var save = (k, v) => localStorage.setItem(k, JSON.stringify(v));
  var pinnedKey = () => localStorage.getItem(KEY_PIN) ?? "";
  function pinKey(vkey) {
    localStorage.setItem(KEY_PIN, vkey.trim());
  }
  var WITNESSES = "glasslog.witnesses";
  var witnessKeys = () => (localStorage.getItem(WITNESSES) ?? "").split(/\s+/).filter(Boolean);
  function setWitnessKeys(text) {
    localStorage.setItem(WITNESSES, text.trim());
  }
  var lastVerified = (origin) => load(lastKey(origin));
  var standingAlarm = (origin) => load(alarmKey(origin));
  function acknowledgeAlarm(origin) {
    localStorage.removeItem(alarmKey(origin));
  }
  async function poll(witnesses = witnessKeys()) {
    const log = await getJson("/v1/log");
    const pinned = pinnedKey();
    if (!pinned) throw new VerifyError("no verifier key is pinned: sign in with the log's key first");
    const key = await parseVerifierKey(pinned);
    const origin = key.name;
    const note = await getText("/checkpoint");
    const keys = await Promise.all(witnesses.map(parseVerifierKey));
    let checkpoint;
    try {
      checkpoint = await verifyCheckpoint(note, key, keys, origin);
    } catch (e) {
      if (e instanceof VerifyError) record(origin, `the checkpoint does not verify: ${e.message}`, note);
      throw e;
    }
    const last = lastVerified(origin);
    let proof = [];
    let status;
    try {
      if (last && checkpoint.size > last.size && last.size > 0) {
        const r = await getJson(`/v1/proofs/consistency?from=${last.size}&to=${checkpoint.size}`);
        proof = r.consistency.map(fromBase64);
      }
      status = await checkAgainstLast(last, checkpoint, proof);
    } catch (e) {
      if (e instanceof VerifyError) record(origin, e.message, note, last);
      throw e;
    }
    save(lastKey(origin), { size: checkpoint.size, rootBase64: checkpoint.rootBase64, note, at: Date.now() });
    return { checkpoint, status, key, log, last };
  }
  function record(origin, message, note, last = lastVerified(origin)) {
    save(alarmKey(origin), { message, note, last, at: Date.now() });
  }

  // src/session.js
  var SOURCE = "glasslog-breakglass";
  var str = (v) => typeof v === "string" ? v : "";
  var uint = (v) => Number.isSafeInteger(v) && v >= 0 ? v : null;
  function decode(index, text) {
    let stored;
    try {
      stored = JSON.parse(text);
    } catch {
      return null;
    }
    const at = uint(stored?.received);
    const ev = stored?.event;
    if (at === null || typeof stored.source !== "string" || !ev || typeof ev !== "object") return null;
    const unmapped = ev.unmapped ?? {};
    const session = typeof unmapped.breakglass_session === "string" ? unmapped.breakglass_session : null;
    const operation = str(ev.api?.operation);
    const actor = str(ev.actor?.user?.name);
    if (stored.source !== SOURCE) return session === null ? null : { index, at, kind: "action", session };
    const details = unmapped.details ?? {};
    const message = str(ev.message);
    if (operation === "breakglass.policy") return { index, at, kind: "policy" };
    if (session === null) return null;
    if (operation === "breakglass.alert")
      return { index, at, kind: "alert", session, alert: { rule: str(details.rule), subject: uint(details.subject), detail: message } };
    let event;
    switch (operation) {
      case "breakglass.opened": {
        const s = details.scope;
        const d = uint(details.duration_seconds);
        const n = uint(details.approvals_required);
        const scopeOk = s && Array.isArray(s.resources) && Array.isArray(s.actions) && [...s.resources, ...s.actions].every((x) => typeof x === "string");
        if (!scopeOk || d === null || typeof details.emergency !== "boolean" || n === null || n > 4294967295) return null;
        event = {
          step: "opened",
          justification: message,
          ticket: str(unmapped.ticket),
          scope: { resources: s.resources, actions: s.actions },
          duration_seconds: d,
          emergency: details.emergency,
          approvals_required: n,
          requester_role: str(details.requester_role)
        };
        break;
      }
      case "breakglass.approved":
        if (typeof details.self_approval !== "boolean") return null;
        event = { step: "approved", self_approval: details.self_approval, activates: typeof details.activates === "boolean" ? details.activates : details.self_approval };
        break;
      case "breakglass.denied":
        event = { step: "denied", reason: message };
        break;
      case "breakglass.extended":
        if (uint(details.seconds) === null) return null;
        event = { step: "extended", seconds: details.seconds, reason: message };
        break;
      case "breakglass.closed":
        event = { step: "closed", reason: message };
        break;
      case "breakglass.expired":
        event = { step: "expired" };
        break;
      case "breakglass.reviewed":
        if (!["appropriate", "inappropriate", "needs_follow_up"].includes(details.verdict)) return null;
        event = { step: "reviewed", verdict: details.verdict, notes: message };
        break;
      default:
        return null;
    }
    return { index, at, kind: "lifecycle", session, actor, event };
  }
  function activate(s, at) {
    s.status = "active";
    s.activated_at = at;
    const extra = s.extensions.reduce((n, e) => n + e.seconds, 0);
    s.expires_at = at + (s.duration_seconds + extra) * 1e3;
  }
  function addEntry(s, index) {
    if (!s.entries.includes(index)) {
      s.entries.push(index);
      s.entries.sort((a, b) => a - b);
    }
  }
  function summarize(id, entries) {
    let s = null;
    let last = -1;
    for (const { index, text } of entries) {
      if (index <= last) throw new VerifyError("entries are not in increasing index order");
      last = index;
      const r = decode(index, text);
      if (!r) throw new VerifyError(`entry ${index} is not a break-glass entry`);
      if (r.kind === "policy") throw new VerifyError(`entry ${index} is a policy entry, not about a session`);
      if (r.session !== id) throw new VerifyError(`entry ${index} belongs to session ${r.session}`);
      if (r.kind === "lifecycle" && r.event.step === "opened") {
        if (s) continue;
        const e2 = r.event;
        s = {
          id,
          requester: r.actor,
          requester_role: e2.requester_role,
          justification: e2.justification,
          ticket: e2.ticket,
          scope: e2.scope,
          duration_seconds: e2.duration_seconds,
          emergency: e2.emergency,
          approvals_required: e2.approvals_required,
          status: "pending",
          opened_at: r.at,
          approvals: [],
          activated_at: null,
          expires_at: null,
          ended_at: null,
          ended_by: null,
          end_reason: null,
          extensions: [],
          review: null,
          urgent_review: false,
          actions: 0,
          alerts: [],
          entries: [index]
        };
        if (e2.approvals_required === 0) activate(s, r.at);
        continue;
      }
      if (!s) continue;
      addEntry(s, index);
      if (r.kind === "action") {
        s.actions += 1;
        continue;
      }
      if (r.kind === "alert") {
        s.alerts.push({ index, rule: r.alert.rule, subject: r.alert.subject, detail: r.alert.detail });
        continue;
      }
      const e = r.event;
      const by = r.actor;
      if (e.step === "approved") {
        if (s.status !== "pending") continue;
        s.approvals.push({ by, at: r.at, self_approval: e.self_approval });
        if (e.self_approval) s.urgent_review = true;
        if (e.activates || s.approvals.length >= s.approvals_required) activate(s, r.at);
      } else if (e.step === "denied") {
        if (s.status === "pending") Object.assign(s, { status: "denied", ended_at: r.at, ended_by: by, end_reason: e.reason });
      } else if (e.step === "extended") {
        if (s.status === "active") {
          s.expires_at = s.expires_at === null ? null : s.expires_at + e.seconds * 1e3;
          s.extensions.push({ by, at: r.at, seconds: e.seconds, reason: e.reason });
        }
      } else if (e.step === "closed") {
        if (s.status === "pending" || s.status === "active") {
          const ended = s.expires_at === null ? r.at : Math.min(s.expires_at, r.at);
          Object.assign(s, { status: "closed", ended_at: ended, ended_by: by, end_reason: e.reason });
        }
      } else if (e.step === "expired") {
        if (s.status === "active") Object.assign(s, { status: "expired", ended_at: s.expires_at });
        else if (s.status === "pending") Object.assign(s, { status: "lapsed", ended_at: r.at });
      } else if (e.step === "reviewed") {
        if (!s.review) s.review = { by, at: r.at, verdict: e.verdict, notes: e.notes };
      }
    }
    if (!s) throw new VerifyError("no entry opens the session");
    return s;
  }
  function firstDifference(a, b, path = "") {
    if (a === b) return null;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return path || "(the value)";
    if (Array.isArray(a) !== Array.isArray(b)) return path;
    const keys = /* @__PURE__ */ new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }

  // src/offline.js
  var REPORT_FORMATS = ["glasslog-breakglass-report/v2", "glasslog-breakglass-report/v1"];
  var BUNDLE_FORMAT = "glasslog-proof-bundle/v1";
  async function verifyFile(text, vkey, policyText) {
    const key = await parseVerifierKey(vkey);
    const policy = policyText.trim() ? await parsePolicy(policyText) : void 0;
    if (text.startsWith("c2sp.org/tlog-proof@")) {
      const p = await verifyTlogProof(text, key, { policy });
      return {
        kind: "tlog-proof",
        lines: [
          `Checkpoint of ${p.checkpoint.origin} at size ${p.checkpoint.size}: signed by ${key.name}${policy ? `, quorum ${policy.quorum} met` : ""}.`,
          `Entry ${p.index} is included (${p.steps.length} proof hashes).`
        ],
        entries: p.extra ? [{ index: p.index, text: new TextDecoder().decode(p.extra) }] : []
      };
    }
    let report;
    try {
      report = JSON.parse(text);
    } catch {
      throw new VerifyError("neither a tlog-proof nor a JSON report");
    }
    if (report?.format === BUNDLE_FORMAT) return verifyBundle(report, key, policy);
    if (!REPORT_FORMATS.includes(report?.format)) throw new VerifyError(`not a report or a proof bundle: format is ${JSON.stringify(report?.format)}`);
    return verifyReport(report, key, policy);
  }
  async function verifyBundle(b, key, policy) {
    const keys = ["format", "index", "entry_base64", "checkpoint", "audit_path", "sealed"];
    if (Object.keys(b).some((k) => !keys.includes(k))) throw new VerifyError("the bundle has fields this format does not define");
    if (!Number.isSafeInteger(b.index) || b.index < 0 || typeof b.entry_base64 !== "string" || typeof b.checkpoint !== "string" || !Array.isArray(b.audit_path))
      throw new VerifyError("the bundle is missing its index, entry, checkpoint or audit path");
    const cp = policy ? await verifyWithPolicy(b.checkpoint, policy, key) : await verifyCheckpoint(b.checkpoint, key);
    let bytes, path;
    try {
      bytes = fromBase64(b.entry_base64);
      path = b.audit_path.map(fromBase64);
    } catch {
      throw new VerifyError("the bundle's entry or audit path is not base64");
    }
    let steps;
    try {
      const leafData = b.sealed ? await sealedLeafData(bytes, b.sealed) : bytes;
      steps = await verifyInclusion(b.index, cp.size, await leafHash(leafData), path, cp.root);
    } catch (err) {
      throw new VerifyError(`entry ${b.index}: ${err.message}`);
    }
    return {
      kind: "bundle",
      lines: [
        `Checkpoint of ${cp.origin} at size ${cp.size}: signed by ${key.name}${policy ? `, quorum ${policy.quorum} met` : ""}.`,
        `Entry ${b.index} is included (${steps.length} proof hashes).`
      ],
      entries: [{ index: b.index, text: new TextDecoder().decode(bytes) }]
    };
  }
  async function verifyReport(report, key, policy) {
    const cp = await verifyCheckpoint(report.checkpoint, key, policy ? policy.witnesses.filter((w) => w.key).map((w) => w.key) : []);
    if (!Array.isArray(report.entries)) throw new VerifyError("the report has no entries");
    let last = -1;
    const entries = [];
    for (const e of report.entries) {
      if (!Number.isSafeInteger(e.index) || e.index <= last) throw new VerifyError("entries are not in increasing index order");
      last = e.index;
      if (typeof e.entry !== "string" || !Array.isArray(e.inclusion_proof)) throw new VerifyError(`entry ${e.index} has no entry text or proof`);
      const bytes = new TextEncoder().encode(e.entry);
      const path = e.inclusion_proof.map(fromBase64);
      let leafData = bytes;
      try {
        if (e.sealed) leafData = await sealedLeafData(bytes, e.sealed);
        await verifyInclusion(e.index, cp.size, await leafHash(leafData), path, cp.root);
      } catch (err) {
        throw new VerifyError(`entry ${e.index}: ${err.message}`);
      }
      const v2 = report.format.endsWith("/v2");
      if (v2 !== (e.tlog_proof !== void 0)) throw new VerifyError(`entry ${e.index}: a v2 report carries tlog-proofs, a v1 report none`);
      if (v2) {
        let t;
        try {
          t = parseTlogProof(e.tlog_proof);
        } catch (err) {
          throw new VerifyError(`entry ${e.index}'s tlog-proof: ${err.message}`);
        }
        const b64 = (hashes) => hashes.map(toBase64).join(",");
        if (t.index !== e.index || t.checkpoint !== report.checkpoint || !t.extra || toBase64(t.extra) !== toBase64(leafData) || b64(t.proof) !== b64(path))
          throw new VerifyError(`entry ${e.index}'s tlog-proof is not the report's proof`);
      }
      entries.push({ index: e.index, text: e.entry });
    }
    const recomputed = summarize(report.session, entries);
    const differs = firstDifference(recomputed, report.summary);
    if (differs) throw new VerifyError(`the summary does not match the entries: ${differs}`);
    return {
      kind: "report",
      lines: [
        `Session ${report.session}: ${entries.length} entries, each included in the checkpoint of ${cp.origin} at size ${cp.size}, signed by ${key.name}.`,
        `The summary matches the entries, recomputed in this browser: ${recomputed.status}, ${recomputed.approvals.length} approval(s), ${recomputed.actions} action(s), ${recomputed.alerts.length} alert(s)${recomputed.review ? `, reviewed ${recomputed.review.verdict}` : ", not reviewed"}.`
      ],
      entries
    };
  }
  function verifyView(main2) {
    const fileIn = h("input", { id: "verify-file", type: "file" });
    const keyIn = h("input", { id: "verify-vkey", type: "text", spellcheck: "false", placeholder: "the log's verifier key: origin+keyid+base64" });
    const policyIn = h("textarea", { id: "verify-policy", rows: 4, spellcheck: "false", placeholder: "optional: a tlog-policy (log, witness, group, quorum lines)" });
    const drop = h("div", { id: "drop", class: "drop" }, "Drop a tlog-proof, a proof bundle or an incident report here, or choose a file: ", fileIn);
    const out = h("div", { id: "verify-result" });
    try {
      keyIn.value = pinnedKey();
    } catch {
    }
    const run = async (file) => {
      fill(out, h("p", { class: "muted" }, `Verifying ${file.name}…`));
      try {
        const r = await verifyFile(await file.text(), keyIn.value, policyIn.value);
        fill(
          out,
          h("p", { class: "ok", id: "verify-status" }, `${file.name}: verified in this browser.`),
          r.lines.map((l) => h("p", {}, l)),
          r.entries.map((e) => h("details", {}, h("summary", {}, `Entry ${e.index}`), h("pre", {}, withMarkers(e.text))))
        );
      } catch (e) {
        fill(out, h("p", { class: "bad", id: "verify-status" }, `${file.name}: ${e instanceof VerifyError ? "does not verify" : "could not be checked"}: ${e.message}`));
      }
    };
    fileIn.addEventListener("change", () => fileIn.files[0] && run(fileIn.files[0]));
    drop.addEventListener("dragover", (ev) => ev.preventDefault());
    drop.addEventListener("drop", (ev) => {
      ev.preventDefault();
      const f = ev.dataTransfer?.files?.[0];
      if (f) run(f);
    });
    fill(
      main2,
      h("h2", {}, "Verify a file offline"),
      h("p", { class: "muted" }, "Nothing leaves this page: the file is checked here with the key you give."),
      h("label", {}, "Log verifier key ", keyIn),
      h("label", {}, "Trust policy ", policyIn),
      drop,
      out
    );
  }

  // src/breakglass.js
  var VERDICTS = [
    ["appropriate", "Appropriate: justified and within bounds"],
    ["inappropriate", "Inappropriate"],
    ["needs_follow_up", "Needs follow-up (rotate a credential, fix a process)"]
  ];
  var awaitingReview = (s) => !s.review && (s.status === "closed" || s.status === "expired");
  function row(s) {
    return h(
      "tr",
      { "data-session": s.id },
      h("td", {}, h("a", { href: `#/breakglass/${s.id}` }, s.id)),
      h("td", {}, s.status),
      h("td", {}, s.requester),
      h("td", {}, s.ticket),
      h("td", {}, s.justification),
      h("td", {}, time(s.opened_at)),
      h("td", {}, `${s.approvals.length} of ${s.approvals_required}`),
      h("td", {}, String(s.alerts.length))
    );
  }
  function table(id, title, sessions) {
    return h(
      "section",
      { id },
      h("h3", {}, `${title} (${sessions.length})`),
      sessions.length ? h(
        "table",
        { class: "entries" },
        h("thead", {}, h("tr", {}, ["Session", "Status", "Requester", "Ticket", "Justification", "Opened", "Approvals", "Alerts"].map((c) => h("th", {}, c)))),
        h("tbody", {}, sessions.map(row))
      ) : h("p", { class: "muted" }, "None.")
    );
  }
  async function listView(main2, problem2) {
    const box = h("div", { id: "breakglass" }, h("p", { class: "muted" }, "Loading…"));
    fill(main2, h("h2", {}, "Break-glass sessions"), h("p", {}, h("a", { href: "#/breakglass/new", id: "request-access" }, "Request emergency access")), box);
    try {
      const { sessions } = await getJson("/v1/breakglass/sessions");
      sessions.sort((a, b) => b.opened_at - a.opened_at);
      fill(
        box,
        table("pending", "Waiting for approval", sessions.filter((s) => s.status === "pending")),
        table("active", "Open now", sessions.filter((s) => s.status === "active")),
        table("review", "Waiting for review", sessions.filter(awaitingReview)),
        table("done", "Done", sessions.filter((s) => !["pending", "active"].includes(s.status) && !awaitingReview(s)))
      );
    } catch (e) {
      fill(box, h("p", { class: "bad" }, problem2(e)));
    }
  }
  function requestView(main2, problem2) {
    const field = (id, label, attrs = {}) => h("label", {}, label, " ", h("input", { id, type: "text", ...attrs }));
    const msg = h("p", { class: "bad", id: "request-error" });
    const form = h(
      "form",
      {
        id: "request",
        onsubmit: async (ev) => {
          ev.preventDefault();
          const v = (id) => form.querySelector(`#${id}`).value.trim();
          const list = (id) => v(id).split(/[\s,]+/).filter(Boolean);
          try {
            const s = await postJson("/v1/breakglass/sessions", {
              justification: v("bg-justification"),
              ticket: v("bg-ticket"),
              scope: { resources: list("bg-resources"), actions: list("bg-actions") },
              duration_seconds: Math.round(Number(v("bg-minutes")) * 60),
              emergency: form.querySelector("#bg-emergency").checked
            });
            location.hash = `#/breakglass/${s.id}`;
          } catch (e) {
            msg.textContent = problem2(e);
          }
        }
      },
      field("bg-justification", "Why", { required: true }),
      field("bg-ticket", "Ticket or incident", { required: true }),
      field("bg-resources", "Resources (patterns, comma-separated)", { required: true, placeholder: "db/prod-*" }),
      field("bg-actions", "Actions (patterns, comma-separated)", { required: true, placeholder: "restart*, read*" }),
      field("bg-minutes", "For how many minutes", { required: true, value: "30", inputmode: "numeric" }),
      h("label", {}, h("input", { id: "bg-emergency", type: "checkbox" }), " Declare an emergency (self-approval where the policy allows it; reviewed urgently)"),
      h("button", { type: "submit" }, "Request"),
      msg
    );
    fill(main2, h("h2", {}, "Request emergency access"), form);
  }
  function timeline(s) {
    const ev = [[s.opened_at, `Requested by ${s.requester} (${s.requester_role}) for ${Math.round(s.duration_seconds / 60)} min${s.emergency ? ", emergency declared" : ""}`]];
    for (const a of s.approvals) ev.push([a.at, `Approved by ${a.by}${a.self_approval ? " (self-approval)" : ""}`]);
    if (s.activated_at) ev.push([s.activated_at, "Active"]);
    for (const x of s.extensions) ev.push([x.at, `Extended by ${x.by} by ${Math.round(x.seconds / 60)} min: ${x.reason}`]);
    if (s.ended_at) ev.push([s.ended_at, `${s.status[0].toUpperCase()}${s.status.slice(1)}${s.ended_by ? ` by ${s.ended_by}` : ""}${s.end_reason ? `: ${s.end_reason}` : ""}`]);
    else if (s.expires_at) ev.push([s.expires_at, `Expires${s.expires_at < Date.now() ? "d" : ""}`]);
    if (s.review) ev.push([s.review.at, `Reviewed by ${s.review.by}: ${s.review.verdict}${s.review.notes ? ` (${s.review.notes})` : ""}`]);
    return ev.sort((a, b) => a[0] - b[0]);
  }
  async function sessionView(main2, id, problem2) {
    const box = h("div", { id: "session" }, h("p", { class: "muted" }, "Loading…"));
    const msg = h("p", { class: "bad", id: "step-error" });
    fill(main2, h("h2", {}, `Session ${id}`), msg, box);
    const step = async (name, body) => {
      msg.textContent = "";
      try {
        await postJson(`/v1/breakglass/sessions/${encodeURIComponent(id)}/${name}`, body);
        await sessionView(main2, id, problem2);
      } catch (e) {
        msg.textContent = problem2(e);
      }
    };
    let s;
    try {
      s = await getJson(`/v1/breakglass/sessions/${encodeURIComponent(id)}`);
    } catch (e) {
      fill(box, h("p", { class: "bad" }, problem2(e)));
      return;
    }
    const reason = h("input", { id: "step-reason", type: "text", placeholder: "reason (for deny and close)" });
    const verdict = h("select", { id: "review-verdict" }, VERDICTS.map(([v, label]) => h("option", { value: v }, label)));
    const notes = h("input", { id: "review-notes", type: "text", placeholder: "review notes" });
    const steps = [];
    if (s.status === "pending") {
      steps.push(h("button", { id: "approve", onclick: () => step("approve", {}) }, "Approve"));
      steps.push(h("button", { id: "deny", onclick: () => step("deny", { reason: reason.value }) }, "Deny"));
    }
    if (s.status === "active") steps.push(h("button", { id: "close", onclick: () => step("close", { reason: reason.value }) }, "Close now"));
    if (s.status === "pending" || s.status === "active") steps.unshift(reason);
    if (awaitingReview(s))
      steps.push(verdict, notes, h("button", { id: "review", onclick: () => step("review", { verdict: verdict.value, notes: notes.value }) }, "Record review"));
    const report = h("div", { id: "report" });
    fill(
      box,
      h(
        "dl",
        {},
        h("dt", {}, "Status"),
        h("dd", { id: "session-status" }, s.status),
        h("dt", {}, "Scope"),
        h("dd", {}, `resources ${s.scope.resources.join(", ")}; actions ${s.scope.actions.join(", ")}`),
        h("dt", {}, "Ticket"),
        h("dd", {}, s.ticket),
        h("dt", {}, "Justification"),
        h("dd", {}, s.justification),
        h("dt", {}, "Actions"),
        h("dd", { id: "session-actions" }, String(s.actions))
      ),
      steps.length ? h("div", { class: "steps" }, steps) : null,
      h("h3", {}, "Timeline"),
      h("ol", { id: "timeline" }, timeline(s).map(([at, what]) => h("li", {}, h("span", { class: "muted" }, time(at)), " ", what))),
      h("h3", {}, `Alerts (${s.alerts.length})`),
      s.alerts.length ? h("ul", { id: "alerts" }, s.alerts.map((a) => h("li", {}, h("a", { href: `#/entries/${a.index}` }, `#${a.index}`), ` ${a.rule}: ${a.detail}`))) : h("p", { class: "muted" }, "None."),
      h("h3", {}, "Entries"),
      h("p", { id: "session-entries" }, s.entries.map((i) => [h("a", { href: `#/entries/${i}` }, `#${i}`), " "])),
      h("p", {}, h("a", { id: "session-search", href: `#/entries?session=${encodeURIComponent(s.id)}` }, "Every entry tagged with this session, newest first")),
      h("button", { id: "get-report", onclick: () => downloadReport(s.id, report, problem2) }, "Get the incident report"),
      report
    );
  }
  async function downloadReport(id, box, problem2) {
    fill(box, h("p", { class: "muted" }, "Fetching and verifying…"));
    try {
      const text = await (await fetchReport(id)).text();
      const r = await verifyFile(text, pinnedKey(), "");
      const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
      fill(
        box,
        h("p", { class: "ok", id: "report-status" }, "The report verifies in this browser."),
        r.lines.map((l) => h("p", {}, l)),
        h("a", { href: url, download: `${id}.report.json`, id: "report-download" }, "Download the report (JSON)")
      );
    } catch (e) {
      fill(box, h("p", { class: "bad", id: "report-status" }, problem2(e)));
    }
  }
  function fetchReport(id) {
    return get(`/v1/breakglass/sessions/${encodeURIComponent(id)}/report`);
  }

  // src/main.js
  var PAGE = 25;
  var POLL_MS = 1e4;
  var main = () => document.getElementById("main");
  var alarmBox = () => document.getElementById("alarm");
  var state = { checkpoint: null, origin: null, timer: null };
  function problem(e) {
    if (e instanceof ApiError && e.status === 401) return "The server wants a token: sign in.";
    if (e instanceof ApiError && e.status === 403) return `Your token's role may not do this: ${e.message}`;
    return e.message ?? String(e);
  }
  function showAlarm() {
    const a = state.origin && standingAlarm(state.origin);
    if (!a) {
      alarmBox().hidden = true;
      return;
    }
    fill(
      alarmBox(),
      h("strong", {}, "Verification failed. "),
      a.message,
      a.last ? h("div", {}, `Last checkpoint this browser verified: size ${a.last.size}, root ${a.last.rootBase64}.`) : null,
      h("details", {}, h("summary", {}, "What the server sent"), h("pre", {}, a.note ?? "")),
      h("button", { id: "ack-alarm", onclick: () => (acknowledgeAlarm(state.origin), showAlarm()) }, "Acknowledge")
    );
    alarmBox().hidden = false;
  }
  function raise(message, detail) {
    fill(alarmBox(), h("strong", {}, "Verification failed. "), message, detail ? h("pre", {}, detail) : null);
    alarmBox().hidden = false;
  }
  function signInView() {
    const tokenIn = h("input", { id: "token", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "glasslog token" });
    const keyIn = h("input", { id: "vkey", type: "text", spellcheck: "false", value: pinnedKey(), placeholder: "origin+keyid+base64 (empty: take the server's and pin it)" });
    const witnessIn = h("textarea", { id: "witnesses", rows: 2, spellcheck: "false", placeholder: "optional: witnesses' cosigner keys (name+keyid+base64), one a line" });
    witnessIn.value = witnessKeys().join("\n");
    const msg = h("p", { class: "muted", id: "signin-msg" });
    const form = h(
      "form",
      {
        id: "signin",
        onsubmit: async (ev) => {
          ev.preventDefault();
          signIn(tokenIn.value);
          tokenIn.value = "";
          try {
            let vkey = keyIn.value.trim();
            if (!vkey) {
              vkey = (await getJson("/v1/log")).verifier_key;
              msg.textContent = `Pinned the server's key on first use: ${vkey}. Compare it with the key your operator published.`;
            }
            state.origin = (await parseVerifierKey(vkey)).name;
            const witnesses = witnessIn.value.split(/\s+/).filter(Boolean);
            await Promise.all(witnesses.map(parseVerifierKey));
            pinKey(vkey);
            setWitnessKeys(witnesses.join("\n"));
            if (location.hash === "#/") route();
            else location.hash = "#/";
          } catch (e) {
            msg.textContent = problem(e);
          }
        }
      },
      h("label", {}, "Token ", tokenIn),
      h("label", {}, "Log verifier key ", keyIn),
      h("label", {}, "Witness keys ", witnessIn),
      h("button", { type: "submit" }, "Sign in"),
      msg,
      h("p", { class: "muted" }, "The token stays in this tab's memory: it is never stored, and closing the tab forgets it.")
    );
    fill(main(), h("h2", {}, "Sign in"), form);
  }
  async function refresh() {
    const r = await poll();
    state.checkpoint = r.checkpoint;
    state.origin = r.key.name;
    if (r.log.verifier_key !== r.key.vkey)
      raise("The server presents a different verifier key from the one pinned in this browser.", `pinned: ${r.key.vkey}
server: ${r.log.verifier_key}`);
    return r;
  }
  async function overview() {
    const box = h("div", { id: "overview" }, h("p", { class: "muted" }, "Verifying the checkpoint…"));
    fill(main(), h("h2", {}, "Log"), box);
    try {
      const r = await refresh();
      const cp = r.checkpoint;
      const status = {
        first: "first checkpoint this browser has seen: remembered from now on",
        same: "unchanged since the last one this browser verified",
        grown: `grew from ${r.last?.size} and the consistency proof verified`
      }[r.status];
      fill(
        box,
        h(
          "dl",
          {},
          h("dt", {}, "Origin"),
          h("dd", { id: "origin" }, cp.origin),
          h("dt", {}, "Size"),
          h("dd", { id: "size" }, String(cp.size)),
          h("dt", {}, "Root"),
          h("dd", { class: "hash" }, cp.rootBase64),
          h("dt", {}, "Signature"),
          h("dd", { id: "sig-status", class: "ok" }, `verified in this browser with ${r.key.name}+${toHex(r.key.id)}`),
          h("dt", {}, "Monitor"),
          h("dd", { id: "monitor-status", class: "ok" }, status),
          h("dt", {}, "Publication lag"),
          h("dd", { id: "publication-lag" }, publicationLag(r.log, cp)),
          h("dt", {}, "Cosigned by"),
          h(
            "dd",
            { id: "cosigners" },
            cp.cosignatures.length ? cp.cosignatures.map((c) => h("div", {}, `${c.name} at ${time(c.timestamp * 1e3)} (verified)`)) : cp.unknownSigners.length ? `${cp.unknownSigners.join(", ")} (no key for them here, so not verified)` : "no witness"
          )
        ),
        h("details", {}, h("summary", {}, "The checkpoint as signed"), h("pre", { id: "checkpoint-note" }, cp.note))
      );
    } catch (e) {
      fill(box, h("p", { class: "bad", id: "overview-error" }, problem(e)));
    }
    showAlarm();
  }
  function publicationLag(log, cp) {
    const behind = Math.max(0, (log.signed_size ?? cp.size) - cp.size);
    const entries = behind ? `${behind} entr${behind === 1 ? "y" : "ies"} signed by the log await witness cosignatures` : "none: the checkpoint served is the log's newest";
    const stamps = cp.cosignatures.map((c) => c.timestamp * 1e3);
    const age = stamps.length ? `; newest cosignature ${Math.max(0, Math.round((Date.now() - Math.max(...stamps)) / 1e3))} s old` : "";
    return entries + age;
  }
  function summary(entry) {
    const ev = entry?.event ?? {};
    const actor = ev.actor?.user?.name ?? ev.actor?.user?.uid ?? ev.actor?.app_name ?? entry?.submitter?.principal ?? "";
    const action = ev.api?.operation ?? ev.activity_name ?? ev.type_name ?? (entry?.text !== void 0 ? "text" : "");
    const resource = ev.resources?.[0]?.name ?? ev.resources?.[0]?.uid ?? "";
    const outcome = ev.status ?? "";
    const when = typeof ev.time === "number" ? ev.time : entry?.received;
    return { actor, action, resource, outcome, when, source: entry?.source ?? "" };
  }
  function entryTable(entries) {
    const rows = entries.map((e) => {
      const s = summary(e.entry);
      const text = e.entry ? JSON.stringify(e.entry) : "";
      const rules = markerRules(text);
      return h(
        "tr",
        { "data-index": e.index },
        h("td", {}, h("a", { href: `#/entries/${e.index}` }, String(e.index))),
        h("td", {}, time(s.when)),
        h("td", {}, s.source),
        h("td", {}, s.actor),
        h("td", {}, s.action),
        h("td", {}, s.resource),
        h("td", {}, s.outcome),
        h("td", {}, rules.length ? rules.map((r) => h("mark", { class: "redacted" }, r)) : "")
      );
    });
    return h(
      "table",
      { class: "entries" },
      h("thead", {}, h("tr", {}, ["#", "Time", "Source", "Actor", "Action", "Resource", "Outcome", "Redacted"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows)
    );
  }
  var SEARCH_FIELDS = ["actor", "action", "resource", "source", "outcome", "session", "rule", "q"];
  var TIME_FIELDS = ["since", "until"];
  var localMs = (v) => v ? String(new Date(v).getTime()) : "";
  var localInput = (ms) => {
    if (!ms) return "";
    const d = new Date(Number(ms));
    return new Date(d.getTime() - d.getTimezoneOffset() * 6e4).toISOString().slice(0, 16);
  };
  function searchForm(params) {
    const input = (name, label, attrs = {}) => h("label", {}, label, h("input", { name, id: `search-${name}`, spellcheck: "false", value: params.get(name) ?? "", ...attrs }));
    const outcome = h(
      "select",
      { name: "outcome", id: "search-outcome" },
      ["", "success", "failure", "unknown"].map((o) => h("option", { value: o, ...params.get("outcome") === o ? { selected: "" } : {} }, o || "any outcome"))
    );
    return h(
      "form",
      {
        id: "search",
        class: "search",
        onsubmit: (ev) => {
          ev.preventDefault();
          const form = new FormData(ev.target);
          const q = new URLSearchParams();
          for (const f of SEARCH_FIELDS) if (String(form.get(f) ?? "").trim()) q.set(f, String(form.get(f)).trim());
          for (const f of TIME_FIELDS) if (form.get(f)) q.set(f, localMs(String(form.get(f))));
          location.hash = `#/entries${q.size ? `?${q}` : ""}`;
        }
      },
      input("q", "Text", { placeholder: "words of actor, action, resource, message" }),
      input("actor", "Actor"),
      input("action", "Action"),
      input("resource", "Resource"),
      input("source", "Source"),
      h("label", {}, "Outcome", outcome),
      input("session", "Break-glass session"),
      input("rule", "Redaction rule"),
      h("label", {}, "Received from", h("input", { name: "since", id: "search-since", type: "datetime-local", value: localInput(params.get("since")) })),
      h("label", {}, "until", h("input", { name: "until", id: "search-until", type: "datetime-local", value: localInput(params.get("until")) })),
      h("button", { type: "submit", id: "search-go" }, "Search"),
      h("a", { href: "#/entries", id: "search-clear" }, "clear")
    );
  }
  async function entriesView(params) {
    const hash = location.hash;
    const box = h("div", { id: "entries" }, h("p", { class: "muted" }, "Loading…"));
    const searching = [...SEARCH_FIELDS, ...TIME_FIELDS].some((f) => params.get(f));
    fill(main(), h("h2", {}, searching ? "Matching entries, newest first" : "Entries, newest first"), searchForm(params), box);
    try {
      await refresh();
      const size = state.checkpoint.size;
      if (searching) await searchResults(box, params, size);
      else await listPage(box, Math.max(0, Number(params.get("page")) || 0), size);
      box.dataset.shown = hash;
    } catch (e) {
      fill(box, h("p", { class: "bad" }, problem(e)));
    }
    showAlarm();
  }
  async function listPage(box, page, size) {
    const end = Math.max(0, size - page * PAGE);
    const start2 = Math.max(0, end - PAGE);
    if (end === start2) {
      fill(box, h("p", {}, "No entries in the verified checkpoint."));
      return;
    }
    const { entries } = await getJson(`/v1/entries?start=${start2}&end=${end}`);
    fill(
      box,
      h("p", { class: "muted" }, `Entries ${start2}–${end - 1} of ${size}. Open one to verify its inclusion in this browser.`),
      entryTable(entries.reverse()),
      h(
        "nav",
        { class: "pager" },
        page > 0 ? h("a", { href: `#/entries?page=${page - 1}`, id: "newer" }, "← newer") : null,
        start2 > 0 ? h("a", { href: `#/entries?page=${page + 1}`, id: "older" }, "older →") : null
      )
    );
  }
  async function searchResults(box, params, size) {
    const q = new URLSearchParams();
    for (const f of [...SEARCH_FIELDS, ...TIME_FIELDS]) if (params.get(f)) q.set(f, params.get(f));
    const before = Math.min(size, Number(params.get("before") ?? size) || 0);
    q.set("before", String(before));
    q.set("limit", String(PAGE));
    const r = await getJson(`/v1/search?${q}`);
    const more = new URLSearchParams(q);
    more.delete("limit");
    if (r.next !== null) more.set("before", String(r.next));
    const first = new URLSearchParams(q);
    first.delete("limit");
    first.delete("before");
    fill(
      box,
      h(
        "p",
        { class: "muted", id: "search-status" },
        r.entries.length ? `${r.entries.length} match${r.entries.length === 1 ? "" : "es"} below entry ${before} of the ${size} this browser verified. Open one to verify its inclusion here.` : r.next !== null ? `No match among the entries searched so far (below ${before}); continue to search older ones.` : "No entry in the verified checkpoint matches."
      ),
      r.entries.length ? entryTable(r.entries) : null,
      h(
        "nav",
        { class: "pager" },
        params.get("before") ? h("a", { href: `#/entries?${first}`, id: "newest" }, "← newest") : null,
        r.next !== null ? h("a", { href: `#/entries?${more}`, id: "older" }, "older →") : null
      )
    );
  }
  async function entryView(index) {
    const proofBox = h("div", { id: "proof" }, h("p", { class: "muted" }, "Verifying…"));
    const body = h("div", { id: "entry" });
    fill(main(), h("h2", {}, `Entry ${index}`), proofBox, body);
    try {
      if (!state.checkpoint) await refresh();
      const cp = state.checkpoint;
      const r = await getJson(`/v1/entries/${index}`);
      const bytes = fromBase64(r.entry_base64);
      const leafData = r.sealed ? await sealedLeafData(bytes, r.sealed) : bytes;
      const leaf = await leafHash(leafData);
      const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      const entry = JSON.parse(text);
      fill(
        body,
        h("h3", {}, "The stored event"),
        fields(entry),
        h("details", { open: true }, h("summary", {}, "As stored (canonical JSON), redactions marked"), h("pre", { class: "stored" }, withMarkers(JSON.stringify(entry, null, 2))))
      );
      if (r.leaf_hash !== toBase64(leaf))
        throw new VerifyError(`the server's leaf hash ${r.leaf_hash} is not the hash of the entry it sent (${toBase64(leaf)})`);
      if (index >= cp.size) {
        fill(proofBox, h("p", { class: "muted" }, `Entry ${index} is not in the verified checkpoint of size ${cp.size} yet.`));
        return;
      }
      const p = await getJson(`/v1/proofs/inclusion?index=${index}&tree_size=${cp.size}`);
      const path = p.audit_path.map(fromBase64);
      const steps = await verifyInclusion(index, cp.size, leaf, path, cp.root);
      fill(
        proofBox,
        h("p", { class: "ok", id: "proof-status" }, `Included: verified in this browser against the checkpoint of size ${cp.size}, whose signature was verified here too.`),
        h(
          "details",
          { id: "proof-steps" },
          h("summary", {}, `The proof, step by step (${steps.length} hashes)`),
          h(
            "ol",
            {},
            r.sealed ? h("li", {}, 'the entry is what its sealed record commits to: SHA-256("glasslog/v1/commitment" 0x00 ‖ salt ‖ entry) is in the record') : [],
            h("li", {}, `leaf hash = SHA-256(0x00 ‖ ${r.sealed ? "sealed record" : "entry"}) = ${toBase64(leaf)}`),
            steps.map(
              (s) => h("li", {}, s.side === "left" ? `SHA-256(0x01 ‖ ${toBase64(s.sibling)} ‖ previous)` : `SHA-256(0x01 ‖ previous ‖ ${toBase64(s.sibling)})`, ` = ${toBase64(s.result)}`)
            ),
            h("li", {}, `equals the checkpoint's root ${cp.rootBase64}`)
          )
        )
      );
    } catch (e) {
      if (e instanceof VerifyError) {
        fill(proofBox, h("p", { class: "bad", id: "proof-status" }, `Not verified: ${e.message}`));
        raise(`Entry ${index}: ${e.message}`);
      } else {
        fill(proofBox, h("p", { class: "bad", id: "proof-status" }, problem(e)));
      }
    }
  }
  function fields(entry) {
    const s = summary(entry);
    const rows = [
      ["Source", s.source],
      ["Received", time(entry.received)],
      ["Time", time(s.when)],
      ["Actor", s.actor],
      ["Action", s.action],
      ["Resource", s.resource],
      ["Outcome", s.outcome],
      ["Submitted by", entry.submitter ? `${entry.submitter.principal} (${entry.submitter.role})` : ""],
      ["Break-glass session", entry.event?.unmapped?.breakglass_session ?? ""]
    ].filter(([, v]) => v);
    return h("dl", { class: "fields" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, withMarkers(String(v)))]));
  }
  function route() {
    const hash = location.hash || "#/";
    clearInterval(state.timer);
    if (location.protocol === "file:" || hash.startsWith("#/verify")) return verifyView(main());
    document.getElementById("signout").hidden = !signedIn();
    if (!signedIn() && !hash.startsWith("#/signin")) {
      if (!pinnedKey()) return signInView();
    }
    const [path, query] = hash.slice(1).split("?");
    const params = new URLSearchParams(query ?? "");
    let m;
    if (path === "/signin") return signInView();
    if (m = /^\/entries\/(\d+)$/.exec(path)) return entryView(Number(m[1]));
    if (path === "/breakglass") return listView(main(), problem);
    if (path === "/breakglass/new") return requestView(main(), problem);
    if (m = /^\/breakglass\/([A-Za-z0-9_-]+)$/.exec(path)) return sessionView(main(), m[1], problem);
    if (path === "/entries") return entriesView(params);
    overview();
    state.timer = setInterval(() => {
      if ((location.hash || "#/") === "#/") overview();
    }, POLL_MS);
  }
  function start() {
    state.origin = pinnedKey().split("+")[0] || null;
    document.getElementById("signout").addEventListener("click", () => {
      signOut();
      state.checkpoint = null;
      location.hash = "#/signin";
    });
    window.addEventListener("hashchange", route);
    route();
  }
  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})();
