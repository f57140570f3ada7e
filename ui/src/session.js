//! A break-glass session recomputed from its proven entries, in the browser: the summary a
//! report claims is checked against what its entries say, not taken from the server.
//!
//! The same fold as crates/breakglass (record.rs `decode`, state.rs `apply`), written apart
//! from it: entries in log order; lifecycle steps from the server's own source; actions and
//! alerts counted against the session they name. It never reads a policy: what the steps
//! record (approvals required, whether an approval activates) is all it needs.

import { VerifyError } from "./verify.js";

const SOURCE = "glasslog-breakglass";

const str = (v) => (typeof v === "string" ? v : "");
const uint = (v) => (Number.isSafeInteger(v) && v >= 0 ? v : null);

/** One stored entry as a break-glass record, or null when it is not one. */
export function decode(index, text) {
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
      if (!scopeOk || d === null || typeof details.emergency !== "boolean" || n === null || n > 0xffffffff) return null;
      event = {
        step: "opened",
        justification: message,
        ticket: str(unmapped.ticket),
        scope: { resources: s.resources, actions: s.actions },
        duration_seconds: d,
        emergency: details.emergency,
        approvals_required: n,
        requester_role: str(details.requester_role),
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
  s.expires_at = at + (s.duration_seconds + extra) * 1000;
}

function addEntry(s, index) {
  if (!s.entries.includes(index)) {
    s.entries.push(index);
    s.entries.sort((a, b) => a - b);
  }
}

/**
 * The session `id` as its entries `[{ index, text }]` (increasing index) tell it, in the
 * shape of the server's session JSON. Throws VerifyError on an entry that is not about it.
 */
export function summarize(id, entries) {
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
      const e = r.event;
      s = {
        id, requester: r.actor, requester_role: e.requester_role, justification: e.justification, ticket: e.ticket,
        scope: e.scope, duration_seconds: e.duration_seconds, emergency: e.emergency, approvals_required: e.approvals_required,
        status: "pending", opened_at: r.at, approvals: [], activated_at: null, expires_at: null, ended_at: null,
        ended_by: null, end_reason: null, extensions: [], review: null, urgent_review: false, actions: 0, alerts: [],
        entries: [index],
      };
      if (e.approvals_required === 0) activate(s, r.at);
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
        s.expires_at = s.expires_at === null ? null : s.expires_at + e.seconds * 1000;
        s.extensions.push({ by, at: r.at, seconds: e.seconds, reason: e.reason });
      }
    } else if (e.step === "closed") {
      if (s.status === "pending" || s.status === "active") {
        // Closing after the end changes nothing about when access ended.
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

/** Deep equality of two JSON values, and the first field where they differ. */
export function firstDifference(a, b, path = "") {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return path || "(the value)";
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}
