//! The console's verifier against every vector in ../shared/specs/vectors/ that SHA-256 and
//! Ed25519 can check: the same files the Rust tests read, through the independent JS code.
//! Run: `node --test ui/test/` (GLASSLOG_VECTORS overrides where the vectors are).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as v from "../src/verify.js";

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = process.env.GLASSLOG_VECTORS ?? join(here, "../../../shared/specs/vectors");
const load = (f) => JSON.parse(readFileSync(join(VECTORS, f), "utf8"));
const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

function jsonFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (name.endsWith(".json")) out.push(p);
  }
  return out;
}

async function outcome(f) {
  try {
    await f();
    return "ok";
  } catch (e) {
    if (!(e instanceof v.VerifyError)) throw e;
    return "rejected";
  }
}

const b64OrEmpty = (s) => (s === "" || s == null ? new Uint8Array(0) : v.fromBase64(s));

test("transparency-dev/merkle inclusion probes", async () => {
  const files = jsonFiles(join(VECTORS, "transparency-dev-merkle/inclusion"));
  assert.ok(files.length >= 98, `only ${files.length} inclusion probes`);
  for (const f of files) {
    const c = JSON.parse(readFileSync(f, "utf8"));
    const got = await outcome(() =>
      v.verifyInclusion(c.leafIdx, c.treeSize, b64OrEmpty(c.leafHash), (c.proof ?? []).map(b64OrEmpty), b64OrEmpty(c.root)),
    );
    assert.equal(got, c.wantErr ? "rejected" : "ok", `${f}: ${c.desc}`);
  }
});

test("transparency-dev/merkle consistency probes", async () => {
  const files = jsonFiles(join(VECTORS, "transparency-dev-merkle/consistency"));
  assert.ok(files.length >= 98, `only ${files.length} consistency probes`);
  for (const f of files) {
    const c = JSON.parse(readFileSync(f, "utf8"));
    const got = await outcome(() =>
      v.verifyConsistency(c.size1, c.size2, b64OrEmpty(c.root1), b64OrEmpty(c.root2), (c.proof ?? []).map(b64OrEmpty)),
    );
    assert.equal(got, c.wantErr ? "rejected" : "ok", `${f}: ${c.desc}`);
  }
});

test("RFC 6962 hashing known answers and roots", async () => {
  const t = load("rfc6962-tree.json");
  for (const k of t.hasher_known_answers) {
    let got;
    if (k.op === "empty_root") got = await v.sha256(new Uint8Array(0));
    else if (k.op === "leaf") got = await v.leafHash(hex(k.input_hex));
    else if (k.op === "node") got = await v.nodeHash(hex(k.left_hex), hex(k.right_hex));
    else assert.fail(`unknown op ${k.op}`);
    assert.equal(v.toHex(got), k.want, k.desc);
  }
  // Every leaf's hash is a level-0 node of the tree.
  for (const [i, l] of t.leaves_hex.entries())
    assert.equal(v.toHex(await v.leafHash(hex(l))), t.node_hashes_by_level.levels[0][i]);
});

test("RFC 6962 proofs of the 8-entry tree, every one and every mutation", async () => {
  for (const file of ["rfc6962-tree.json", "rfc6962-tree-derived-proofs.json"]) {
    const t = load(file);
    for (const p of t.inclusion_proofs) {
      const proof = p.proof.map(hex);
      await v.verifyInclusion(p.leaf_index, p.tree_size, hex(p.leaf_hash), proof, hex(p.root));
      // A flipped bit anywhere, a wrong index or size, or a dropped step is refused.
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((h) => h.slice());
        bad[i][0] ^= 1;
        assert.equal(await outcome(() => v.verifyInclusion(p.leaf_index, p.tree_size, hex(p.leaf_hash), bad, hex(p.root))), "rejected");
      }
      if (proof.length > 0)
        assert.equal(await outcome(() => v.verifyInclusion(p.leaf_index, p.tree_size, hex(p.leaf_hash), proof.slice(1), hex(p.root))), "rejected");
      // (A larger size alone may keep the path's shape, and so verify: the index must move.)
      const other = p.leaf_index ^ 1;
      if (other < p.tree_size)
        assert.equal(await outcome(() => v.verifyInclusion(other, p.tree_size, hex(p.leaf_hash), proof, hex(p.root))), "rejected");
    }
    for (const p of t.consistency_proofs) {
      const proof = p.proof.map(hex);
      await v.verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), proof);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((h) => h.slice());
        bad[i][31] ^= 0x80;
        assert.equal(await outcome(() => v.verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), bad)), "rejected");
      }
    }
  }
});

test("signed notes", async () => {
  const { vectors } = load("signed-note.json");
  assert.equal(vectors.length, 4);
  for (const c of vectors) {
    const keys = [await v.parseVerifierKey(c.vkey)];
    if (c.key_id_hex) assert.equal(v.toHex(keys[0].id), c.key_id_hex, c.id);
    const got = await outcome(() => v.verifyNote(c.note, keys));
    assert.equal(got, c.expect.startsWith("valid") ? "ok" : "rejected", c.id);
    if (got === "ok") {
      const r = await v.verifyNote(c.note, keys);
      assert.equal(r.text, c.text, c.id);
      assert.deepEqual(r.verified.map((s) => s.name), [keys[0].name]);
    }
    if (c.enoch_vkey) {
      // With both keys, both signatures verify; with only Enoch's, Peter's line is unknown.
      const both = await v.verifyNote(c.note, [...keys, await v.parseVerifierKey(c.enoch_vkey)]);
      assert.deepEqual(both.verified.map((s) => s.name), ["PeterNeumann", "EnochRoot"]);
      assert.deepEqual((await v.verifyNote(c.note, keys)).unknown, ["EnochRoot"]);
    }
  }
  // A key whose ID does not match its name and key is refused when parsed.
  const k = vectors[0].vkey.replace("+530d903a+", "+530d903b+");
  assert.equal(await outcome(() => v.parseVerifierKey(k)), "rejected");
});

test("checkpoints", async () => {
  const { vectors } = load("checkpoint.json");
  for (const c of vectors) {
    const cp = v.parseCheckpoint(v.splitNote(c.note).text);
    if (c.origin) assert.equal(cp.origin, c.origin, c.id);
    if (c.tree_size != null) assert.equal(String(cp.size), String(c.tree_size), c.id);
    if (c.root_hash_b64) assert.equal(cp.rootBase64, c.root_hash_b64, c.id);
    if (c.root_hash_hex) assert.equal(v.toHex(cp.root), c.root_hash_hex, c.id);
    if (!c.vkey && !c.vkeys) continue; // format only: the key is not published
    const keys = await Promise.all((c.vkeys ?? [c.vkey]).map(v.parseVerifierKey));
    const r = await v.verifyNote(c.note, keys);
    assert.equal(r.verified.length, keys.length, c.id);
    if (c.origin && keys[0].name === c.origin) {
      const full = await v.verifyCheckpoint(c.note, keys[0]);
      assert.equal(full.size, Number(c.tree_size));
      // The same note for another origin, or altered by one byte, is refused.
      assert.equal(await outcome(() => v.verifyCheckpoint(c.note, keys[0], [], "example.com/other")), "rejected");
      const altered = c.note.replace(`\n${c.tree_size}\n`, `\n${Number(c.tree_size) + 1}\n`);
      assert.equal(await outcome(() => v.verifyCheckpoint(altered, keys[0])), "rejected");
    }
  }
});

test("cosignatures (tlog-cosignature v1, Ed25519)", async () => {
  const { vectors } = load("cosignature.json");
  const gen = vectors.find((c) => c.id === "generated-cosignature-size8");
  const cps = load("checkpoint.json").vectors;
  const log = await v.parseVerifierKey(cps.find((c) => c.id === "generated-checkpoint-size8").vkey);
  const witness = await v.parseVerifierKey(gen.vkey_type04);
  assert.equal(v.toHex(witness.id), gen.key_id_hex);
  const cp = await v.verifyCheckpoint(gen.cosigned_checkpoint, log, [witness]);
  assert.deepEqual(cp.cosignatures, [{ name: gen.cosigner_name, keyId: gen.key_id_hex, timestamp: gen.timestamp }]);
  // Without the witness key its line is an unknown signer; a changed timestamp fails.
  assert.deepEqual((await v.verifyCheckpoint(gen.cosigned_checkpoint, log)).unknownSigners, [gen.cosigner_name]);
  const line = gen.cosignature_line.trim().split(" ");
  const blob = v.fromBase64(line[2]);
  blob[11] ^= 1;
  const bad = gen.cosigned_checkpoint.replace(line[2], v.toBase64(blob));
  assert.equal(await outcome(() => v.verifyCheckpoint(bad, log, [witness])), "rejected");
  // The structure-only upstream example decodes to its key ID and timestamp.
  const ex = vectors.find((c) => c.id === "c2sp-cosignature-example-structure");
  const exBlob = v.fromBase64(ex.cosignature_line.trim().split(" ")[2]);
  assert.equal(v.toHex(exBlob.slice(0, 4)), ex.decoded.key_id_hex);
  assert.equal(Number(new DataView(exBlob.buffer).getBigUint64(4)), ex.decoded.timestamp);
});

test("the monitor's decision: first, same, grown, rollback, fork", async () => {
  const t = load("rfc6962-tree.json");
  const root = (n) => hex(t.roots_by_size[String(n)]);
  const at = (n) => ({ size: n, root: root(n), rootBase64: v.toBase64(root(n)) });
  const p = t.consistency_proofs.find((c) => c.size1 === 6 && c.size2 === 8);
  assert.equal(await v.checkAgainstLast(null, at(6), []), "first");
  assert.equal(await v.checkAgainstLast(at(6), at(6), []), "same");
  assert.equal(await v.checkAgainstLast(at(6), at(8), p.proof.map(hex)), "grown");
  assert.equal(await outcome(() => v.checkAgainstLast(at(8), at(6), [])), "rejected");
  const forked = { ...at(8), root: root(7) };
  assert.equal(await outcome(() => v.checkAgainstLast(at(8), forked, [])), "rejected");
  assert.equal(await outcome(() => v.checkAgainstLast(at(6), forked, p.proof.map(hex))), "rejected");
});

test("tlog-proof files", async () => {
  const { vectors } = load("tlog-proof.json");
  const byId = Object.fromEntries(vectors.map((c) => [c.id, c]));
  for (const c of byId["formats-parse-errors"].cases)
    assert.equal(await outcome(async () => v.parseTlogProof(c.input)), "rejected", c.expect);
  for (const id of ["formats-marshal-no-extra", "formats-marshal-extra", "formats-marshal-empty-proof"]) {
    const p = v.parseTlogProof(byId[id].expected);
    assert.equal(p.index, byId[id].inputs.index, id);
    assert.deepEqual(p.proof.map(v.toBase64), byId[id].inputs.hashes_b64, id);
    assert.equal(p.checkpoint, byId[id].inputs.checkpoint, id);
  }
  const g = byId["generated-proof-index3"];
  const log = await v.parseVerifierKey(g.log_vkey);
  const policy = await v.parsePolicy(g.policy);
  const ok = await v.verifyTlogProof(g.proof, log, { leaf: hex(g.leaf_hash_hex), policy });
  assert.equal(ok.index, 3);
  assert.equal(v.toHex(await v.leafHash(hex(g.leaf_data_hex))), g.leaf_hash_hex);
  // With extra, the entry comes from the file itself.
  const e = byId["generated-proof-index3-with-extra"];
  assert.equal(v.toHex((await v.verifyTlogProof(e.proof, log, { policy: await v.parsePolicy(e.policy) })).extra), "2021");
  for (const c of byId["generated-negatives"].cases) {
    const got = await outcome(async () => {
      const pol = c.policy ? await v.parsePolicy(c.policy) : undefined;
      const leaf = c.leaf_data_hex ? await v.leafHash(hex(c.leaf_data_hex)) : hex(g.leaf_hash_hex);
      await v.verifyTlogProof(c.proof, log, { leaf, policy: pol });
    });
    assert.equal(got, c.expect.startsWith("valid") ? "ok" : "rejected", c.expect);
  }
});

test("tlog-policy: evaluation and parsing", async () => {
  const d = load("tlog-policy.json");
  const logKey = await v.parseVerifierKey(d.keys.log.vkey);
  for (const c of d.evaluation) {
    const got = await outcome(async () => v.verifyWithPolicy(c.checkpoint, await v.parsePolicy(c.policy), logKey));
    // "valid only if the application supplies the log key": it does, here.
    const want = c.expected_valid === false ? "rejected" : "ok";
    assert.equal(got, want, c.case);
  }
  const W1 = d.keys.witnesses.Wit1.vkey_type04;
  const W2 = d.keys.witnesses.Wit2.vkey_type04;
  const expand = (p) => {
    const body = p.startsWith("... ") ? `log L\nwitness a W1\nwitness b W2\n${p.slice(4, -4)}\nquorum g\n` : p;
    return body.replaceAll("W1", W1).replaceAll("W2", W2).replace(/^log L$/m, `log ${d.keys.log.vkey}`);
  };
  for (const c of d.parse_cases_derived.cases) {
    if (!/^(reject|accept)/.test(c.expect)) continue; // a rule in prose, held by the evaluation cases
    c.policy = c.policy.replace(" (Kelvin sign, bytes E2 84 AA)", "").replaceAll("\\u212a", "\u212a");
    const got = await outcome(async () => v.parsePolicy(expand(c.policy)));
    assert.equal(got, c.expect.startsWith("reject") ? "rejected" : "ok", `${c.policy}: ${c.expect}`);
  }
  for (const c of d.parse_cases_upstream.cases) {
    const got = await outcome(async () => v.parsePolicy(c.policy));
    // "tidy" is syntax the spec allows with witness keys it does not (type 0x01): refused
    // here, as its verdict advises a strict verifier to.
    const want = /^reject/i.test(c.spec) || /should refuse 0x01/.test(c.spec) ? "rejected" : "ok";
    assert.equal(got, want, `${c.name}: ${c.spec}`);
  }
});
