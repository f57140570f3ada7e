//! Break-glass in the console: sessions by what they wait for (approval, its end, review), a
//! session's timeline, the steps a role allows (request, approve, deny, close, review), and
//! the incident report, downloaded and verified here before it is offered.
//!
//! The server decides who may do what (the same policy as the API); the console only hides
//! the steps that a session's status rules out, and shows the server's refusal otherwise.

import * as api from "./api.js";
import { fill, h, time } from "./dom.js";
import { pinnedKey } from "./monitor.js";
import { verifyFile } from "./offline.js";

const VERDICTS = [
  ["appropriate", "Appropriate: justified and within bounds"],
  ["inappropriate", "Inappropriate"],
  ["needs_follow_up", "Needs follow-up (rotate a credential, fix a process)"],
];

const awaitingReview = (s) => !s.review && (s.status === "closed" || s.status === "expired");

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
    h("td", {}, String(s.alerts.length)),
  );
}

function table(id, title, sessions) {
  return h(
    "section",
    { id },
    h("h3", {}, `${title} (${sessions.length})`),
    sessions.length
      ? h(
          "table",
          { class: "entries" },
          h("thead", {}, h("tr", {}, ["Session", "Status", "Requester", "Ticket", "Justification", "Opened", "Approvals", "Alerts"].map((c) => h("th", {}, c)))),
          h("tbody", {}, sessions.map(row)),
        )
      : h("p", { class: "muted" }, "None."),
  );
}

export async function listView(main, problem) {
  const box = h("div", { id: "breakglass" }, h("p", { class: "muted" }, "Loading…"));
  fill(main, h("h2", {}, "Break-glass sessions"), h("p", {}, h("a", { href: "#/breakglass/new", id: "request-access" }, "Request emergency access")), box);
  try {
    const { sessions } = await api.getJson("/v1/breakglass/sessions");
    sessions.sort((a, b) => b.opened_at - a.opened_at);
    fill(
      box,
      table("pending", "Waiting for approval", sessions.filter((s) => s.status === "pending")),
      table("active", "Open now", sessions.filter((s) => s.status === "active")),
      table("review", "Waiting for review", sessions.filter(awaitingReview)),
      table("done", "Done", sessions.filter((s) => !["pending", "active"].includes(s.status) && !awaitingReview(s))),
    );
  } catch (e) {
    fill(box, h("p", { class: "bad" }, problem(e)));
  }
}

export function requestView(main, problem) {
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
          const s = await api.postJson("/v1/breakglass/sessions", {
            justification: v("bg-justification"),
            ticket: v("bg-ticket"),
            scope: { resources: list("bg-resources"), actions: list("bg-actions") },
            duration_seconds: Math.round(Number(v("bg-minutes")) * 60),
            emergency: form.querySelector("#bg-emergency").checked,
          });
          location.hash = `#/breakglass/${s.id}`;
        } catch (e) {
          msg.textContent = problem(e);
        }
      },
    },
    field("bg-justification", "Why", { required: true }),
    field("bg-ticket", "Ticket or incident", { required: true }),
    field("bg-resources", "Resources (patterns, comma-separated)", { required: true, placeholder: "db/prod-*" }),
    field("bg-actions", "Actions (patterns, comma-separated)", { required: true, placeholder: "restart*, read*" }),
    field("bg-minutes", "For how many minutes", { required: true, value: "30", inputmode: "numeric" }),
    h("label", {}, h("input", { id: "bg-emergency", type: "checkbox" }), " Declare an emergency (self-approval where the policy allows it; reviewed urgently)"),
    h("button", { type: "submit" }, "Request"),
    msg,
  );
  fill(main, h("h2", {}, "Request emergency access"), form);
}

/** The session's life as dated events, oldest first. */
export function timeline(s) {
  const ev = [[s.opened_at, `Requested by ${s.requester} (${s.requester_role}) for ${Math.round(s.duration_seconds / 60)} min${s.emergency ? ", emergency declared" : ""}`]];
  for (const a of s.approvals) ev.push([a.at, `Approved by ${a.by}${a.self_approval ? " (self-approval)" : ""}`]);
  if (s.activated_at) ev.push([s.activated_at, "Active"]);
  for (const x of s.extensions) ev.push([x.at, `Extended by ${x.by} by ${Math.round(x.seconds / 60)} min: ${x.reason}`]);
  if (s.ended_at) ev.push([s.ended_at, `${s.status[0].toUpperCase()}${s.status.slice(1)}${s.ended_by ? ` by ${s.ended_by}` : ""}${s.end_reason ? `: ${s.end_reason}` : ""}`]);
  else if (s.expires_at) ev.push([s.expires_at, `Expires${s.expires_at < Date.now() ? "d" : ""}`]);
  if (s.review) ev.push([s.review.at, `Reviewed by ${s.review.by}: ${s.review.verdict}${s.review.notes ? ` (${s.review.notes})` : ""}`]);
  return ev.sort((a, b) => a[0] - b[0]);
}

export async function sessionView(main, id, problem) {
  const box = h("div", { id: "session" }, h("p", { class: "muted" }, "Loading…"));
  const msg = h("p", { class: "bad", id: "step-error" });
  fill(main, h("h2", {}, `Session ${id}`), msg, box);
  const step = async (name, body) => {
    msg.textContent = "";
    try {
      await api.postJson(`/v1/breakglass/sessions/${encodeURIComponent(id)}/${name}`, body);
      await sessionView(main, id, problem);
    } catch (e) {
      msg.textContent = problem(e);
    }
  };
  let s;
  try {
    s = await api.getJson(`/v1/breakglass/sessions/${encodeURIComponent(id)}`);
  } catch (e) {
    fill(box, h("p", { class: "bad" }, problem(e)));
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
      h("dd", { id: "session-actions" }, String(s.actions)),
    ),
    steps.length ? h("div", { class: "steps" }, steps) : null,
    h("h3", {}, "Timeline"),
    h("ol", { id: "timeline" }, timeline(s).map(([at, what]) => h("li", {}, h("span", { class: "muted" }, time(at)), " ", what))),
    h("h3", {}, `Alerts (${s.alerts.length})`),
    s.alerts.length ? h("ul", { id: "alerts" }, s.alerts.map((a) => h("li", {}, h("a", { href: `#/entries/${a.index}` }, `#${a.index}`), ` ${a.rule}: ${a.detail}`))) : h("p", { class: "muted" }, "None."),
    h("h3", {}, "Entries"),
    h("p", { id: "session-entries" }, s.entries.map((i) => [h("a", { href: `#/entries/${i}` }, `#${i}`), " "])),
    h("p", {}, h("a", { id: "session-search", href: `#/entries?session=${encodeURIComponent(s.id)}` }, "Every entry tagged with this session, newest first")),
    h("button", { id: "get-report", onclick: () => downloadReport(s.id, report, problem) }, "Get the incident report"),
    report,
  );
}

/** Fetches the report, verifies it here with the pinned key, and offers it for download. */
async function downloadReport(id, box, problem) {
  fill(box, h("p", { class: "muted" }, "Fetching and verifying…"));
  try {
    const text = await (await fetchReport(id)).text();
    const r = await verifyFile(text, pinnedKey(), "");
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    fill(
      box,
      h("p", { class: "ok", id: "report-status" }, "The report verifies in this browser."),
      r.lines.map((l) => h("p", {}, l)),
      h("a", { href: url, download: `${id}.report.json`, id: "report-download" }, "Download the report (JSON)"),
    );
  } catch (e) {
    fill(box, h("p", { class: "bad", id: "report-status" }, problem(e)));
  }
}

function fetchReport(id) {
  return api.get(`/v1/breakglass/sessions/${encodeURIComponent(id)}/report`);
}
