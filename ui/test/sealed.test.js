//! Sealed entries (a log encrypted at rest): the console's verifier checks the fixture that
//! the Rust side (crates/seal, `the_console_fixture_is_a_valid_opening`) checks too, and
//! refuses anything changed. Run: `node --test ui/test/`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as v from "../src/verify.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(readFileSync(join(here, "sealed-entry.json"), "utf8"));

test("a sealed entry's plaintext is checked against its record, then its leaf", async () => {
  const plaintext = v.fromBase64(fixture.entry_base64);
  const record = await v.sealedLeafData(plaintext, fixture.sealed);
  assert.equal(v.toBase64(await v.leafHash(record)), fixture.leaf_hash);
});

test("another plaintext, salt or record is refused", async () => {
  const plaintext = v.fromBase64(fixture.entry_base64);
  const other = new TextEncoder().encode('{"actor":"mallory"}');
  await assert.rejects(v.sealedLeafData(other, fixture.sealed), v.VerifyError);
  const salt = v.fromBase64(fixture.sealed.salt_base64);
  salt[0] ^= 1;
  await assert.rejects(v.sealedLeafData(plaintext, { ...fixture.sealed, salt_base64: v.toBase64(salt) }), v.VerifyError);
  const record = v.fromBase64(fixture.sealed.record_base64);
  for (const i of [0, 4, 5, 36]) {
    const bad = record.slice();
    bad[i] ^= 1;
    await assert.rejects(v.sealedLeafData(plaintext, { ...fixture.sealed, record_base64: v.toBase64(bad) }), v.VerifyError, `byte ${i}`);
  }
  await assert.rejects(v.sealedLeafData(plaintext, { record_base64: fixture.sealed.record_base64 }), v.VerifyError);
});
