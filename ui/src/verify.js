//! The console's verifier: RFC 6962 inclusion and consistency proofs, C2SP signed notes,
//! checkpoints and cosignatures, on WebCrypto alone (SHA-256, Ed25519).
//!
//! Specs: RFC 9162 §2.1.3.2 and §2.1.4.2 (https://www.rfc-editor.org/rfc/rfc9162),
//! https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint,
//! https://c2sp.org/tlog-cosignature.
//!
//! This is a second implementation, written apart from the server's Rust (crates/merkle), so
//! that a console showing "verified" does not merely repeat what the server computed. It runs
//! unchanged in the browser and in Node (ui/test/vectors.test.js runs every vector in
//! ../shared/specs/vectors/ through it). Every check either returns its result or throws a
//! VerifyError that says what failed; nothing here trusts the server.

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

/** A proof, signature or format that does not verify. */
export class VerifyError extends Error {
  constructor(message) {
    super(message);
    this.name = "VerifyError";
  }
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard padded base64 to bytes; anything else is refused (no URL alphabet, no spaces). */
export function fromBase64(s) {
  if (typeof s !== "string" || !B64.test(s)) throw new VerifyError("not standard base64");
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function toHex(bytes) {
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

export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

/** RFC 6962 leaf hash: SHA-256(0x00 || entry). */
export function leafHash(entry) {
  return sha256(concat(Uint8Array.of(0), entry));
}

const SEALED_MAGIC = Uint8Array.of(0, 0x67, 0x6c, 0x73, 0x31); // "\0gls1"
const COMMITMENT_DOMAIN = enc.encode("glasslog/v1/commitment\0");

/**
 * A sealed entry (a log encrypted at rest): the leaf hashes the sealed record, which commits
 * to the plaintext as SHA-256("glasslog/v1/commitment" 0x00 || salt || plaintext) in its
 * bytes 5..37 (crates/seal). Checks that commitment with the salt the server gave, and
 * returns the record: the bytes to hash into the leaf. No key is needed, none is used.
 */
export async function sealedLeafData(plaintext, sealed) {
  const record = bytesArg(sealed?.record_base64, "the sealed record");
  const salt = bytesArg(sealed?.salt_base64, "the salt");
  if (salt.length !== 32) throw new VerifyError("the salt is not 32 bytes");
  if (record.length < 141 || !SEALED_MAGIC.every((b, i) => record[i] === b)) throw new VerifyError("not a sealed record");
  const c = await sha256(concat(COMMITMENT_DOMAIN, salt, plaintext));
  if (!c.every((b, i) => record[5 + i] === b)) throw new VerifyError("the entry is not what its sealed record commits to");
  return record;
}

/** RFC 6962 interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function bytesArg(h, what) {
  const b = typeof h === "string" ? fromBase64(h) : h;
  if (!(b instanceof Uint8Array)) throw new VerifyError(`${what} is not bytes`);
  return b;
}

function hashArg(h, what) {
  const b = bytesArg(h, what);
  if (b.length !== 32) throw new VerifyError(`${what} is not a 32-byte hash`);
  return b;
}

function sizeArg(n, what) {
  // Sizes are JSON numbers: exact up to 2^53, which a log will not reach.
  if (!Number.isSafeInteger(n) || n < 0) throw new VerifyError(`${what} is not a non-negative integer`);
  return n;
}

// Bit arithmetic on sizes beyond 2^32 cannot use JS's 32-bit operators: BigInt does it.
const big = (n) => BigInt(n);

/**
 * Checks that `leaf` (a leaf hash) is entry `index` of the tree of `size` whose root is
 * `root` (RFC 9162 §2.1.3.2). Returns the steps taken, for the console to show:
 * `[{ side: "left" | "right", sibling, result }]`, where `result` is the hash after the step.
 */
export async function verifyInclusion(index, size, leaf, proof, root) {
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

/**
 * Checks that the tree of `size1` with root `root1` is a prefix of the tree of `size2` with
 * root `root2` (RFC 9162 §2.1.4.2, with transparency-dev/merkle's edge cases: size1 = 0
 * proves nothing and is refused; equal sizes need an empty proof and equal roots).
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  sizeArg(size1, "the old size");
  sizeArg(size2, "the new size");
  // Roots are compared as given (transparency-dev/merkle compares them without a length
  // check when the sizes are equal); a root of any other length than 32 never matches a hash.
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
  // When size1 is a power of two its root is the proof's implicit first node.
  const isPow2 = (big(size1) & (big(size1) - 1n)) === 0n;
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

/** Signature types of C2SP signed-note verifier keys. */
export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;

async function keyId(name, alg, pub) {
  return (await sha256(concat(enc.encode(name), Uint8Array.of(0x0a, alg), pub))).slice(0, 4);
}

function validKeyName(name) {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** `<name>+<hex key id>+<base64>`; the base64 may itself hold "+", so the name ends at the first. */
function splitVerifierKey(vkey) {
  const m = /^([^+]*)\+([^+]*)\+(.*)$/su.exec(vkey.trim());
  if (!m) throw new VerifyError("a verifier key is <name>+<key id>+<key>");
  return m.slice(1);
}

/**
 * Parses a verifier key `<name>+<hex key id>+<base64 of type byte and public key>` and checks
 * that its key ID is the one its name and key derive. Returns `{ name, id, alg, publicKey,
 * key }`, where `key` is the imported WebCrypto key. Types 0x01 (Ed25519 note signatures) and
 * 0x04 (Ed25519 cosignatures) are understood; others are refused.
 */
export async function parseVerifierKey(vkey) {
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

const SIG_PREFIX = "\u2014 ";

/**
 * Splits a signed note into its text and signature lines (c2sp.org/signed-note). The text is
 * everything up to and including the last "\n\n" before the signatures, minus one "\n".
 */
export function splitNote(note) {
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

/**
 * Verifies a signed note with the given verifier keys (parsed). Signatures by keys not given
 * are ignored, as the spec says; one that names a given key and fails is an error, and so is a
 * note that no given key signed. Returns `{ text, verified: [{ name, keyId }], unknown: [names],
 * cosignatures: [{ name, keyId, timestamp }] }`.
 */
export async function verifyNote(note, keys) {
  const { text, sigs } = splitNote(note);
  const body = enc.encode(text);
  const verified = [];
  const unknown = [];
  const cosignatures = [];
  for (const s of sigs) {
    const k = keys.find((k) => k.name === s.name && equal(k.id, s.id));
    if (!k) {
      unknown.push(s.name);
      continue;
    }
    if (k.alg === ALG_ED25519) {
      if (s.sig.length !== 64) throw new VerifyError(`${s.name}'s signature is not 64 bytes`);
      if (!(await subtle.verify({ name: "Ed25519" }, k.key, s.sig, body)))
        throw new VerifyError(`${s.name}'s signature does not verify: the note was altered`);
      verified.push({ name: s.name, keyId: toHex(s.id) });
    } else {
      // c2sp.org/tlog-cosignature: 8-byte big-endian timestamp, then the signature over
      // "cosignature/v1\ntime <T>\n" and the checkpoint body.
      if (s.sig.length !== 72) throw new VerifyError(`${s.name}'s cosignature is not 72 bytes`);
      const ts = new DataView(s.sig.buffer, s.sig.byteOffset, 8).getBigUint64(0);
      const msg = concat(enc.encode(`cosignature/v1\ntime ${ts}\n`), body);
      if (!(await subtle.verify({ name: "Ed25519" }, k.key, s.sig.slice(8), msg)))
        throw new VerifyError(`${s.name}'s cosignature does not verify`);
      cosignatures.push({ name: s.name, keyId: toHex(s.id), timestamp: Number(ts) });
    }
  }
  if (verified.length === 0 && cosignatures.length === 0)
    throw new VerifyError("no signature on the note is by a key you trust");
  return { text, verified, unknown, cosignatures };
}

/**
 * Parses a checkpoint's text (c2sp.org/tlog-checkpoint): origin, decimal size, base64 root,
 * then optional extension lines.
 */
export function parseCheckpoint(text) {
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

/**
 * A checkpoint note verified end to end: the log's signature by `logKey`, the origin it must
 * carry, and cosignatures by any of `witnessKeys`. Returns the parsed checkpoint with the
 * verification's details.
 */
export async function verifyCheckpoint(note, logKey, witnessKeys = [], origin = logKey.name) {
  const v = await verifyNote(note, [logKey, ...witnessKeys]);
  if (!v.verified.some((s) => s.name === logKey.name))
    throw new VerifyError("the checkpoint is not signed by the log's key");
  const cp = parseCheckpoint(v.text);
  if (cp.origin !== origin) throw new VerifyError(`the checkpoint is for ${cp.origin}, not ${origin}`);
  return { ...cp, note, text: v.text, cosignatures: v.cosignatures, unknownSigners: v.unknown };
}

/**
 * What a newly fetched checkpoint means next to the last one this browser verified: the
 * monitor's decision. `proof` is the server's consistency proof between them (ignored when
 * no proof is needed). Returns "same", "first" or "grown"; throws on a rollback or fork.
 */
export async function checkAgainstLast(last, next, proof) {
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

const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

/**
 * Parses a tlog-proof file (c2sp.org/tlog-proof): header, optional `extra <base64>`, `index
 * <decimal>` (no leading zeros), the audit path one base64 hash a line, an empty line, then
 * the checkpoint note verbatim. Strict where the spec is: anything else is refused.
 */
export function parseTlogProof(text) {
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
    const h = fromBase64(lines[at]);
    if (h.length !== 32) throw new VerifyError(`proof line ${proof.length + 1} is not a 32-byte hash`);
    proof.push(h);
  }
  if (at >= lines.length) throw new VerifyError("no empty line before the checkpoint");
  const checkpoint = lines.slice(at + 1).join("\n");
  if (!checkpoint) throw new VerifyError("the checkpoint is missing");
  return { extra, index, proof, checkpoint };
}

/**
 * Verifies a tlog-proof: the checkpoint signed by `logKey`, cosigned as `policy` demands (if
 * given), and the proof binding `leaf` (a leaf hash; from `extra` when not given) to its root.
 */
export async function verifyTlogProof(text, logKey, { leaf, witnessKeys = [], policy } = {}) {
  const p = parseTlogProof(text);
  const cp = policy ? await verifyWithPolicy(p.checkpoint, policy, logKey) : await verifyCheckpoint(p.checkpoint, logKey, witnessKeys);
  if (!leaf) {
    if (!p.extra) throw new VerifyError("the proof carries no entry (extra), and none was given");
    leaf = await leafHash(p.extra);
  }
  const steps = await verifyInclusion(p.index, cp.size, leaf, p.proof, cp.root);
  return { ...p, checkpoint: cp, steps };
}

/**
 * Parses a trust policy (c2sp.org/tlog-policy): `log`, `witness`, `group` and `quorum` lines.
 * Witness keys of a type this browser cannot verify (ML-DSA-44 cosignatures, 0x06) are kept,
 * without a key: they never count toward a quorum here.
 */
export async function parsePolicy(text) {
  if (typeof text !== "string" || text.includes("\r")) throw new VerifyError("a policy is LF-terminated text");
  const logs = [];
  const witnesses = [];
  const items = new Map([["none", { kind: "none" }]]);
  const keys = new Set();
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
      const raw = fromBase64(splitVerifierKey(f[2])[2]);
      const type = raw[0];
      if (type !== ALG_COSIGNATURE_V1 && type !== 0x06) throw new VerifyError(`witness ${f[1]}'s key is not a cosignature key`);
      const key = type === ALG_COSIGNATURE_V1 ? await parseVerifierKey(f[2]) : null;
      dup(keys, raw.slice(1));
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

/**
 * A checkpoint valid under a policy: signed by one of its logs (or by `logKey`, known from
 * elsewhere, when it lists none) and witnessed by its quorum.
 */
export async function verifyWithPolicy(note, policy, logKey = null) {
  const logs = policy.logs.length ? policy.logs : logKey ? [logKey] : [];
  const origin = parseCheckpoint(splitNote(note).text).origin;
  const key = logs.find((k) => k.name === origin);
  if (!key) throw new VerifyError(`the policy lists no log key for ${origin}`);
  const cp = await verifyCheckpoint(note, key, policy.witnesses.filter((w) => w.key).map((w) => w.key));
  if (!policyMet(policy, cp.cosignatures))
    throw new VerifyError(`the cosignatures do not meet the policy's quorum ${policy.quorum}`);
  return cp;
}

/** Whether the verified cosignatures (by witness key name) meet the policy's quorum. */
export function policyMet(policy, cosignatures) {
  const signed = new Set(cosignatures.map((c) => `${c.name}+${c.keyId}`));
  const met = (name) => {
    const it = policy.items.get(name);
    if (it.kind === "none") return true;
    if (it.kind === "witness") return it.key !== null && signed.has(`${it.key.name}+${toHex(it.key.id)}`);
    return it.members.filter(met).length >= it.k;
  };
  return met(policy.quorum);
}
