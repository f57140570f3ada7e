//! A monitor in a tab: fetch the signed checkpoint, verify it with the pinned key, and prove
//! it consistent with the last one this browser verified; remember it only once proven.
//!
//! What is remembered (localStorage, per origin) is public: the pinned verifier key and the
//! last verified checkpoint. A failed check leaves the remembered checkpoint as it was, so a
//! rollback or fork stays visible on every later load until someone looks at it.

import * as api from "./api.js";
import { VerifyError, checkAgainstLast, fromBase64, parseVerifierKey, verifyCheckpoint } from "./verify.js";

const KEY_PIN = "glasslog.vkey";
const lastKey = (origin) => `glasslog.last.${origin}`;
const alarmKey = (origin) => `glasslog.alarm.${origin}`;

function load(k) {
  try {
    return JSON.parse(localStorage.getItem(k) ?? "null");
  } catch {
    return null;
  }
}

const save = (k, v) => localStorage.setItem(k, JSON.stringify(v));

export const pinnedKey = () => localStorage.getItem(KEY_PIN) ?? "";
export function pinKey(vkey) {
  localStorage.setItem(KEY_PIN, vkey.trim());
}

const WITNESSES = "glasslog.witnesses";
/** The witnesses' cosigner keys (type 0x04) this browser checks cosignatures with. */
export const witnessKeys = () => (localStorage.getItem(WITNESSES) ?? "").split(/\s+/).filter(Boolean);
export function setWitnessKeys(text) {
  localStorage.setItem(WITNESSES, text.trim());
}

export const lastVerified = (origin) => load(lastKey(origin));
export const standingAlarm = (origin) => load(alarmKey(origin));
export function acknowledgeAlarm(origin) {
  localStorage.removeItem(alarmKey(origin));
}

/**
 * One round: returns `{ checkpoint, status, key, log }` where status is "first", "same" or
 * "grown"; throws VerifyError (after recording the alarm) when the server's checkpoint does
 * not verify or contradicts the last one.
 */
export async function poll(witnesses = witnessKeys()) {
  const log = await api.getJson("/v1/log");
  const pinned = pinnedKey();
  if (!pinned) throw new VerifyError("no verifier key is pinned: sign in with the log's key first");
  const key = await parseVerifierKey(pinned);
  const origin = key.name;
  const note = await api.getText("/checkpoint");
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
      const r = await api.getJson(`/v1/proofs/consistency?from=${last.size}&to=${checkpoint.size}`);
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
