//! Verify a file offline: a C2SP tlog-proof, glasslog's JSON proof bundle or a break-glass
//! incident report, dropped onto the page or chosen, checked entirely here against the
//! verifier key (and optionally the trust policy) the user supplies. Nothing is fetched, so it
//! works opened from disk.

import { fill, h, withMarkers } from "./dom.js";
import { firstDifference, summarize } from "./session.js";
import { pinnedKey } from "./monitor.js";
import { VerifyError, fromBase64, leafHash, parsePolicy, sealedLeafData, parseTlogProof, parseVerifierKey, toBase64, verifyCheckpoint, verifyInclusion, verifyTlogProof, verifyWithPolicy } from "./verify.js";

const REPORT_FORMATS = ["glasslog-breakglass-report/v2", "glasslog-breakglass-report/v1"];
const BUNDLE_FORMAT = "glasslog-proof-bundle/v1";

/** Checks one file's text; returns lines of what was verified, or throws VerifyError. */
export async function verifyFile(text, vkey, policyText) {
  const key = await parseVerifierKey(vkey);
  const policy = policyText.trim() ? await parsePolicy(policyText) : undefined;
  if (text.startsWith("c2sp.org/tlog-proof@")) {
    const p = await verifyTlogProof(text, key, { policy });
    return {
      kind: "tlog-proof",
      lines: [
        `Checkpoint of ${p.checkpoint.origin} at size ${p.checkpoint.size}: signed by ${key.name}${policy ? `, quorum ${policy.quorum} met` : ""}.`,
        `Entry ${p.index} is included (${p.steps.length} proof hashes).`,
      ],
      entries: p.extra ? [{ index: p.index, text: new TextDecoder().decode(p.extra) }] : [],
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

/** glasslog's JSON proof bundle (`glasslog prove --format bundle`): one entry, its checkpoint and path. */
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
      `Entry ${b.index} is included (${steps.length} proof hashes).`,
    ],
    entries: [{ index: b.index, text: new TextDecoder().decode(bytes) }],
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
    // Encrypted at rest, the leaf (and the tlog-proof's extra) is the sealed record.
    let leafData = bytes;
    try {
      if (e.sealed) leafData = await sealedLeafData(bytes, e.sealed);
      await verifyInclusion(e.index, cp.size, await leafHash(leafData), path, cp.root);
    } catch (err) {
      throw new VerifyError(`entry ${e.index}: ${err.message}`);
    }
    const v2 = report.format.endsWith("/v2");
    if (v2 !== (e.tlog_proof !== undefined)) throw new VerifyError(`entry ${e.index}: a v2 report carries tlog-proofs, a v1 report none`);
    if (v2) {
      // The tlog-proof must be this very proof, so that checking it alone checks the report.
      // Its checkpoint and path were verified just above: comparing them is enough.
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
  // The summary is what the proven entries say, recomputed here.
  const recomputed = summarize(report.session, entries);
  const differs = firstDifference(recomputed, report.summary);
  if (differs) throw new VerifyError(`the summary does not match the entries: ${differs}`);
  return {
    kind: "report",
    lines: [
      `Session ${report.session}: ${entries.length} entries, each included in the checkpoint of ${cp.origin} at size ${cp.size}, signed by ${key.name}.`,
      `The summary matches the entries, recomputed in this browser: ${recomputed.status}, ${recomputed.approvals.length} approval(s), ${recomputed.actions} action(s), ${recomputed.alerts.length} alert(s)${recomputed.review ? `, reviewed ${recomputed.review.verdict}` : ", not reviewed"}.`,
    ],
    entries,
  };
}

export function verifyView(main) {
  const fileIn = h("input", { id: "verify-file", type: "file" });
  const keyIn = h("input", { id: "verify-vkey", type: "text", spellcheck: "false", placeholder: "the log's verifier key: origin+keyid+base64" });
  const policyIn = h("textarea", { id: "verify-policy", rows: 4, spellcheck: "false", placeholder: "optional: a tlog-policy (log, witness, group, quorum lines)" });
  const drop = h("div", { id: "drop", class: "drop" }, "Drop a tlog-proof, a proof bundle or an incident report here, or choose a file: ", fileIn);
  const out = h("div", { id: "verify-result" });
  try {
    keyIn.value = pinnedKey();
  } catch {
    // Storage may be unavailable from disk: the key is typed in.
  }
  const run = async (file) => {
    fill(out, h("p", { class: "muted" }, `Verifying ${file.name}…`));
    try {
      const r = await verifyFile(await file.text(), keyIn.value, policyIn.value);
      fill(
        out,
        h("p", { class: "ok", id: "verify-status" }, `${file.name}: verified in this browser.`),
        r.lines.map((l) => h("p", {}, l)),
        r.entries.map((e) => h("details", {}, h("summary", {}, `Entry ${e.index}`), h("pre", {}, withMarkers(e.text)))),
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
    main,
    h("h2", {}, "Verify a file offline"),
    h("p", { class: "muted" }, "Nothing leaves this page: the file is checked here with the key you give."),
    h("label", {}, "Log verifier key ", keyIn),
    h("label", {}, "Trust policy ", policyIn),
    drop,
    out,
  );
}
