//! The console: sign in, the log's overview (a monitor in the tab), entries newest first or
//! searched by field, and an entry with its inclusion proof verified here. Routes are the
//! URL's fragment, so the server serves one page and no route ever carries the token.

import * as api from "./api.js";
import { fill, h, markerRules, time, withMarkers } from "./dom.js";
import * as monitor from "./monitor.js";
import * as breakglass from "./breakglass.js";
import { verifyView } from "./offline.js";
import { VerifyError, fromBase64, leafHash, parseVerifierKey, sealedLeafData, toBase64, toHex, verifyInclusion } from "./verify.js";

const PAGE = 25;
const POLL_MS = 10_000;

const main = () => document.getElementById("main");
const alarmBox = () => document.getElementById("alarm");
const state = { checkpoint: null, origin: null, timer: null };

function problem(e) {
  if (e instanceof api.ApiError && e.status === 401) return "The server wants a token: sign in.";
  if (e instanceof api.ApiError && e.status === 403) return `Your token's role may not do this: ${e.message}`;
  return e.message ?? String(e);
}

/** The alarm banner: shown while an alarm stands for this origin, until acknowledged. */
function showAlarm() {
  const a = state.origin && monitor.standingAlarm(state.origin);
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
    h("button", { id: "ack-alarm", onclick: () => (monitor.acknowledgeAlarm(state.origin), showAlarm()) }, "Acknowledge"),
  );
  alarmBox().hidden = false;
}

function raise(message, detail) {
  fill(alarmBox(), h("strong", {}, "Verification failed. "), message, detail ? h("pre", {}, detail) : null);
  alarmBox().hidden = false;
}

// --- sign in -------------------------------------------------------------------------------

function signInView() {
  const tokenIn = h("input", { id: "token", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "glasslog token" });
  const keyIn = h("input", { id: "vkey", type: "text", spellcheck: "false", value: monitor.pinnedKey(), placeholder: "origin+keyid+base64 (empty: take the server's and pin it)" });
  const witnessIn = h("textarea", { id: "witnesses", rows: 2, spellcheck: "false", placeholder: "optional: witnesses' cosigner keys (name+keyid+base64), one a line" });
  witnessIn.value = monitor.witnessKeys().join("\n");
  const msg = h("p", { class: "muted", id: "signin-msg" });
  const form = h(
    "form",
    {
      id: "signin",
      onsubmit: async (ev) => {
        ev.preventDefault();
        api.signIn(tokenIn.value);
        tokenIn.value = "";
        try {
          let vkey = keyIn.value.trim();
          if (!vkey) {
            // Trust on first use: the key is pinned, and shown so that it can be compared with
            // the one the operator published.
            vkey = (await api.getJson("/v1/log")).verifier_key;
            msg.textContent = `Pinned the server's key on first use: ${vkey}. Compare it with the key your operator published.`;
          }
          state.origin = (await parseVerifierKey(vkey)).name;
          const witnesses = witnessIn.value.split(/\s+/).filter(Boolean);
          await Promise.all(witnesses.map(parseVerifierKey));
          monitor.pinKey(vkey);
          monitor.setWitnessKeys(witnesses.join("\n"));
          // A changed fragment routes by itself (hashchange); an unchanged one does not.
          if (location.hash === "#/") route();
          else location.hash = "#/";
        } catch (e) {
          msg.textContent = problem(e);
        }
      },
    },
    h("label", {}, "Token ", tokenIn),
    h("label", {}, "Log verifier key ", keyIn),
    h("label", {}, "Witness keys ", witnessIn),
    h("button", { type: "submit" }, "Sign in"),
    msg,
    h("p", { class: "muted" }, "The token stays in this tab's memory: it is never stored, and closing the tab forgets it."),
  );
  fill(main(), h("h2", {}, "Sign in"), form);
}

// --- overview ------------------------------------------------------------------------------

async function refresh() {
  const r = await monitor.poll();
  state.checkpoint = r.checkpoint;
  state.origin = r.key.name;
  if (r.log.verifier_key !== r.key.vkey)
    raise("The server presents a different verifier key from the one pinned in this browser.", `pinned: ${r.key.vkey}\nserver: ${r.log.verifier_key}`);
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
      grown: `grew from ${r.last?.size} and the consistency proof verified`,
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
          cp.cosignatures.length
            ? cp.cosignatures.map((c) => h("div", {}, `${c.name} at ${time(c.timestamp * 1000)} (verified)`))
            : cp.unknownSigners.length
              ? `${cp.unknownSigners.join(", ")} (no key for them here, so not verified)`
              : "no witness",
        ),
      ),
      h("details", {}, h("summary", {}, "The checkpoint as signed"), h("pre", { id: "checkpoint-note" }, cp.note)),
    );
  } catch (e) {
    fill(box, h("p", { class: "bad", id: "overview-error" }, problem(e)));
  }
  showAlarm();
}

/** How far the checkpoint served lags the log's own newest signed one, and how old it is. */
function publicationLag(log, cp) {
  const behind = Math.max(0, (log.signed_size ?? cp.size) - cp.size);
  const entries = behind
    ? `${behind} entr${behind === 1 ? "y" : "ies"} signed by the log await witness cosignatures`
    : "none: the checkpoint served is the log's newest";
  const stamps = cp.cosignatures.map((c) => c.timestamp * 1000);
  const age = stamps.length ? `; newest cosignature ${Math.max(0, Math.round((Date.now() - Math.max(...stamps)) / 1000))} s old` : "";
  return entries + age;
}

// --- entries -------------------------------------------------------------------------------

/** The few fields a list shows, from a stored entry (OCSF event or raw text). */
function summary(entry) {
  const ev = entry?.event ?? {};
  const actor = ev.actor?.user?.name ?? ev.actor?.user?.uid ?? ev.actor?.app_name ?? entry?.submitter?.principal ?? "";
  const action = ev.api?.operation ?? ev.activity_name ?? ev.type_name ?? (entry?.text !== undefined ? "text" : "");
  const resource = ev.resources?.[0]?.name ?? ev.resources?.[0]?.uid ?? "";
  const outcome = ev.status ?? "";
  const when = typeof ev.time === "number" ? ev.time : entry?.received;
  return { actor, action, resource, outcome, when, source: entry?.source ?? "" };
}

/** The list's table: one row per entry, newest first as given. */
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
      h("td", {}, rules.length ? rules.map((r) => h("mark", { class: "redacted" }, r)) : ""),
    );
  });
  return h(
    "table",
    { class: "entries" },
    h("thead", {}, h("tr", {}, ["#", "Time", "Source", "Actor", "Action", "Resource", "Outcome", "Redacted"].map((c) => h("th", {}, c)))),
    h("tbody", {}, rows),
  );
}

/** What `GET /v1/search` takes, as the form and the URL's fragment name them. */
const SEARCH_FIELDS = ["actor", "action", "resource", "source", "outcome", "session", "rule", "q"];
const TIME_FIELDS = ["since", "until"];

/** A datetime-local input's value as ms since the epoch, or the other way round. */
const localMs = (v) => (v ? String(new Date(v).getTime()) : "");
const localInput = (ms) => {
  if (!ms) return "";
  const d = new Date(Number(ms));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function searchForm(params) {
  const input = (name, label, attrs = {}) =>
    h("label", {}, label, h("input", { name, id: `search-${name}`, spellcheck: "false", value: params.get(name) ?? "", ...attrs }));
  const outcome = h(
    "select",
    { name: "outcome", id: "search-outcome" },
    ["", "success", "failure", "unknown"].map((o) => h("option", { value: o, ...(params.get("outcome") === o ? { selected: "" } : {}) }, o || "any outcome")),
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
      },
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
    h("a", { href: "#/entries", id: "search-clear" }, "clear"),
  );
}

async function entriesView(params) {
  const hash = location.hash;
  const box = h("div", { id: "entries" }, h("p", { class: "muted" }, "Loading…"));
  const searching = [...SEARCH_FIELDS, ...TIME_FIELDS].some((f) => params.get(f));
  fill(main(), h("h2", {}, searching ? "Matching entries, newest first" : "Entries, newest first"), searchForm(params), box);
  try {
    // The newest checkpoint, verified and proven consistent with the last one: what is
    // listed or searched is what it covers.
    await refresh();
    const size = state.checkpoint.size;
    if (searching) await searchResults(box, params, size);
    else await listPage(box, Math.max(0, Number(params.get("page")) || 0), size);
    // Which route the box now shows: a later route may already have replaced it.
    box.dataset.shown = hash;
  } catch (e) {
    fill(box, h("p", { class: "bad" }, problem(e)));
  }
  showAlarm();
}

async function listPage(box, page, size) {
  const end = Math.max(0, size - page * PAGE);
  const start = Math.max(0, end - PAGE);
  if (end === start) {
    fill(box, h("p", {}, "No entries in the verified checkpoint."));
    return;
  }
  const { entries } = await api.getJson(`/v1/entries?start=${start}&end=${end}`);
  fill(
    box,
    h("p", { class: "muted" }, `Entries ${start}–${end - 1} of ${size}. Open one to verify its inclusion in this browser.`),
    entryTable(entries.reverse()),
    h(
      "nav",
      { class: "pager" },
      page > 0 ? h("a", { href: `#/entries?page=${page - 1}`, id: "newer" }, "← newer") : null,
      start > 0 ? h("a", { href: `#/entries?page=${page + 1}`, id: "older" }, "older →") : null,
    ),
  );
}

/** One page of `GET /v1/search`, within the checkpoint this browser verified. */
async function searchResults(box, params, size) {
  const q = new URLSearchParams();
  for (const f of [...SEARCH_FIELDS, ...TIME_FIELDS]) if (params.get(f)) q.set(f, params.get(f));
  const before = Math.min(size, Number(params.get("before") ?? size) || 0);
  q.set("before", String(before));
  q.set("limit", String(PAGE));
  const r = await api.getJson(`/v1/search?${q}`);
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
      r.entries.length
        ? `${r.entries.length} match${r.entries.length === 1 ? "" : "es"} below entry ${before} of the ${size} this browser verified. Open one to verify its inclusion here.`
        : r.next !== null
          ? `No match among the entries searched so far (below ${before}); continue to search older ones.`
          : "No entry in the verified checkpoint matches.",
    ),
    r.entries.length ? entryTable(r.entries) : null,
    h(
      "nav",
      { class: "pager" },
      params.get("before") ? h("a", { href: `#/entries?${first}`, id: "newest" }, "← newest") : null,
      r.next !== null ? h("a", { href: `#/entries?${more}`, id: "older" }, "older →") : null,
    ),
  );
}

async function entryView(index) {
  const proofBox = h("div", { id: "proof" }, h("p", { class: "muted" }, "Verifying…"));
  const body = h("div", { id: "entry" });
  fill(main(), h("h2", {}, `Entry ${index}`), proofBox, body);
  try {
    if (!state.checkpoint) await refresh();
    const cp = state.checkpoint;
    const r = await api.getJson(`/v1/entries/${index}`);
    // What is shown is what is proven: the bytes the leaf hash covers, decoded here, not the
    // server's parsed copy beside them.
    const bytes = fromBase64(r.entry_base64);
    // Encrypted at rest, the leaf hashes the sealed record, which commits to these bytes.
    const leafData = r.sealed ? await sealedLeafData(bytes, r.sealed) : bytes;
    const leaf = await leafHash(leafData);
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const entry = JSON.parse(text);
    fill(
      body,
      h("h3", {}, "The stored event"),
      fields(entry),
      h("details", { open: true }, h("summary", {}, "As stored (canonical JSON), redactions marked"), h("pre", { class: "stored" }, withMarkers(JSON.stringify(entry, null, 2)))),
    );
    if (r.leaf_hash !== toBase64(leaf))
      throw new VerifyError(`the server's leaf hash ${r.leaf_hash} is not the hash of the entry it sent (${toBase64(leaf)})`);
    if (index >= cp.size) {
      fill(proofBox, h("p", { class: "muted" }, `Entry ${index} is not in the verified checkpoint of size ${cp.size} yet.`));
      return;
    }
    const p = await api.getJson(`/v1/proofs/inclusion?index=${index}&tree_size=${cp.size}`);
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
          r.sealed ? h("li", {}, "the entry is what its sealed record commits to: SHA-256(\"glasslog/v1/commitment\" 0x00 ‖ salt ‖ entry) is in the record") : [],
          h("li", {}, `leaf hash = SHA-256(0x00 ‖ ${r.sealed ? "sealed record" : "entry"}) = ${toBase64(leaf)}`),
          steps.map((s) =>
            h("li", {}, s.side === "left" ? `SHA-256(0x01 ‖ ${toBase64(s.sibling)} ‖ previous)` : `SHA-256(0x01 ‖ previous ‖ ${toBase64(s.sibling)})`, ` = ${toBase64(s.result)}`),
          ),
          h("li", {}, `equals the checkpoint's root ${cp.rootBase64}`),
        ),
      ),
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

/** The event's main fields laid out, then the rest as it is. */
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
    ["Break-glass session", entry.event?.unmapped?.breakglass_session ?? ""],
  ].filter(([, v]) => v);
  return h("dl", { class: "fields" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, withMarkers(String(v)))]));
}

// --- routing -------------------------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  clearInterval(state.timer);
  // Opened from disk there is no server: only offline verification makes sense.
  if (location.protocol === "file:" || hash.startsWith("#/verify")) return verifyView(main());
  document.getElementById("signout").hidden = !api.signedIn();
  if (!api.signedIn() && !hash.startsWith("#/signin")) {
    // Reads may be public on this server: try without a token, and offer to sign in.
    if (!monitor.pinnedKey()) return signInView();
  }
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query ?? "");
  let m;
  if (path === "/signin") return signInView();
  if ((m = /^\/entries\/(\d+)$/.exec(path))) return entryView(Number(m[1]));
  if (path === "/breakglass") return breakglass.listView(main(), problem);
  if (path === "/breakglass/new") return breakglass.requestView(main(), problem);
  if ((m = /^\/breakglass\/([A-Za-z0-9_-]+)$/.exec(path))) return breakglass.sessionView(main(), m[1], problem);
  if (path === "/entries") return entriesView(params);
  overview();
  state.timer = setInterval(() => {
    if ((location.hash || "#/") === "#/") overview();
  }, POLL_MS);
}

function start() {
  // The alarm belongs to the pinned log, whether or not this load can reach the server.
  state.origin = monitor.pinnedKey().split("+")[0] || null;
  document.getElementById("signout").addEventListener("click", () => {
    api.signOut();
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
