//! The console in a real browser (Debian's Chromium, driven by Playwright) against the real
//! server: sign in, the overview verified, entries newest first and searched, an entry's
//! inclusion proof verified with its redaction marked, roles as on the API, and the alarm on
//! a tampered proof, a tampered entry, a bad signature, a rollback and a fork.
//!
//! Run by tests/e2e/console.rs, which starts the server, writes the entries and forges the
//! checkpoints (it holds the log's key, as an attacker who stole it would). Tampering happens
//! between the page and the server (Playwright's request interception): the server is honest,
//! the wire is not. Environment: GLASSLOG_URL, GLASSLOG_TOKEN (auditor or admin),
//! GLASSLOG_READER_TOKEN, GLASSLOG_VKEY, GLASSLOG_SECRET (must never appear on the page),
//! GLASSLOG_OLD_NOTE, GLASSLOG_FORK_NOTE, GLASSLOG_REDACTED_INDEX, CHROMIUM (default
//! /usr/bin/chromium), GLASSLOG_SCREENSHOTS (a directory; optional).

import { chromium } from "playwright-core";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const URL = env("GLASSLOG_URL");
const TOKEN = env("GLASSLOG_TOKEN");
const READER = env("GLASSLOG_READER_TOKEN");
const VKEY = env("GLASSLOG_VKEY");
const SECRET = env("GLASSLOG_SECRET");
const OLD_NOTE = env("GLASSLOG_OLD_NOTE");
const FORK_NOTE = env("GLASSLOG_FORK_NOTE");
const REDACTED = Number(env("GLASSLOG_REDACTED_INDEX"));
const TLOG_PROOF = env("GLASSLOG_TLOG_PROOF");
const PROOF_BUNDLE = env("GLASSLOG_PROOF_BUNDLE");
const DIST = env("GLASSLOG_DIST");
const BG = JSON.parse(env("GLASSLOG_BREAKGLASS_TOKENS"));
const SHOTS = process.env.GLASSLOG_SCREENSHOTS;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // As root in a sandbox-less container, and with no network beyond loopback: nothing that
  // phones home.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const failures = [];
let step = "";
async function check(name, f) {
  step = name;
  try {
    await f();
    console.log(`ok - ${name}`);
  } catch (e) {
    failures.push(`${name}: ${e.stack ?? e}`);
    console.log(`not ok - ${name}\n  ${String(e.message ?? e).split("\n").join("\n  ")}`);
  }
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // Any script error, or any request the CSP blocks, fails the step it happens in.
  page.on("pageerror", (e) => failures.push(`${step}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[13]/.test(m.text())) failures.push(`${step}: console error: ${m.text()}`);
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(URL) && !r.url().startsWith(`file://${DIST}/`)) failures.push(`${step}: a request left the server's origin: ${r.url()}`);
  });
  return { context, page };
}

const shot = async (page, name) => {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
};

/** Waits until the entries view shows the route in the address bar (not the one before it). */
const shown = (page) => page.waitForFunction(() => document.querySelector("#entries")?.dataset.shown === location.hash);

async function signIn(page, token, vkey) {
  await page.goto(`${URL}/ui/#/signin`);
  await page.fill("#token", token);
  await page.fill("#vkey", vkey);
  await page.click("#signin button[type=submit]");
}

const { page } = await newPage();

await check("the console is served with a strict Content-Security-Policy", async () => {
  const resp = await page.goto(`${URL}/ui/`);
  const csp = resp.headers()["content-security-policy"] ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  await page.waitForSelector("#signin");
});

await check("sign in; the checkpoint's signature is verified in the browser", async () => {
  await signIn(page, TOKEN, VKEY);
  await page.waitForSelector("#sig-status.ok");
  assert.match(await page.textContent("#monitor-status"), /first checkpoint/);
  assert.equal(await page.textContent("#origin"), VKEY.split("+")[0]);
  await shot(page, "overview");
});

await check("the token is kept in memory only", async () => {
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie + location.href);
  assert.ok(!stored.includes(TOKEN), "the token is in storage or the URL");
  assert.ok(stored.includes(VKEY.split("+")[1]), "the pinned key is remembered");
});

await check("entries, newest first", async () => {
  await page.goto(`${URL}/ui/#/entries`);
  await page.waitForSelector("table.entries tbody tr");
  const first = Number(await page.getAttribute("table.entries tbody tr:first-child", "data-index"));
  const second = Number(await page.getAttribute("table.entries tbody tr:nth-child(2)", "data-index"));
  assert.ok(first > second, `${first} then ${second}`);
  await page.click("#older");
  await page.waitForSelector("#newer");
  await shot(page, "entries");
});

await check("search by field and by words, newest first; a match opens with its proof verified", async () => {
  await page.goto(`${URL}/ui/#/entries`);
  await page.fill("#search-actor", "ALICE");
  await page.selectOption("#search-outcome", "success");
  await page.click("#search-go");
  await shown(page);
  const rows = await page.$$eval("table.entries tbody tr", (rs) => rs.map((r) => ({ index: Number(r.dataset.index), actor: r.children[3].textContent })));
  assert.deepEqual(rows.map((r) => r.index), [REDACTED], JSON.stringify(rows));
  assert.match(page.url(), /actor=ALICE/);
  await shot(page, "search");
  // Words of the resource and a redaction rule, combined with a time range that holds it.
  await page.goto(`${URL}/ui/#/entries?q=${encodeURIComponent("db prod")}&since=0`);
  await shown(page);
  assert.deepEqual(await page.$$eval("table.entries tbody tr", (rs) => rs.map((r) => Number(r.dataset.index))), [REDACTED]);
  const rule = await page.textContent("table.entries tbody tr mark.redacted");
  await page.goto(`${URL}/ui/#/entries?rule=${encodeURIComponent(rule)}`);
  await shown(page);
  assert.deepEqual(await page.$$eval("table.entries tbody tr", (rs) => rs.map((r) => Number(r.dataset.index))), [REDACTED]);
  // Prefix-named actors "late0".."late29": pages of 25, then older.
  await page.goto(`${URL}/ui/#/entries?action=read`);
  await shown(page);
  const firstPage = await page.$$eval("table.entries tbody tr", (rs) => rs.map((r) => Number(r.dataset.index)));
  assert.equal(firstPage.length, 25);
  assert.ok(firstPage.every((v, i) => i === 0 || firstPage[i - 1] > v), "newest first");
  await page.click("#older");
  await shown(page);
  await page.waitForSelector("#newest");
  const secondPage = await page.$$eval("table.entries tbody tr", (rs) => rs.map((r) => Number(r.dataset.index)));
  assert.ok(secondPage.length > 0 && secondPage[0] < firstPage.at(-1), `${secondPage} after ${firstPage}`);
  await page.goto(`${URL}/ui/#/entries?actor=nobody-at-all`);
  await shown(page);
  assert.match(await page.textContent("#search-status"), /No entry/);
  await page.goto(`${URL}/ui/#/entries?actor=alice`);
  await page.waitForSelector("table.entries tbody tr a");
  await page.click("table.entries tbody tr a");
  await page.waitForSelector("#proof-status.ok");
});

await check("an entry: redaction marked, the secret absent, inclusion verified", async () => {
  await page.goto(`${URL}/ui/#/entries/${REDACTED}`);
  await page.waitForSelector("#proof-status.ok");
  assert.match(await page.textContent("#proof-status"), /Included/);
  const rules = await page.$$eval("pre.stored mark.redacted", (ms) => ms.map((m) => m.dataset.rule));
  assert.ok(rules.length > 0, "no redaction marker shown");
  assert.ok(!(await page.content()).includes(SECRET), "the secret is on the page");
  await page.click("#proof-steps summary");
  assert.ok((await page.$$("#proof-steps li")).length >= 2);
  await shot(page, "entry");
});

await check("a tampered inclusion proof raises the alarm", async () => {
  await page.route("**/v1/proofs/inclusion**", async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    const h = Buffer.from(body.audit_path[0], "base64");
    h[0] ^= 1;
    body.audit_path[0] = h.toString("base64");
    await route.fulfill({ response: resp, json: body });
  });
  await page.goto(`${URL}/ui/#/entries/1`);
  await page.waitForSelector("#proof-status.bad");
  assert.ok(await page.isVisible("#alarm"));
  await page.unroute("**/v1/proofs/inclusion**");
});

await check("a tampered entry raises the alarm", async () => {
  await page.route(/\/v1\/entries\/2$/, async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    const bytes = Buffer.from(body.entry_base64, "base64").toString().replace('"glasslog":1', '"glasslog":2');
    const raw = Buffer.from(bytes);
    assert.notEqual(raw.toString("base64"), body.entry_base64, "nothing to tamper with");
    body.entry_base64 = raw.toString("base64");
    // The tamperer fixes the leaf hash up too: only the proof can catch it.
    body.leaf_hash = createHash("sha256").update(Buffer.concat([Buffer.of(0), raw])).digest("base64");
    await route.fulfill({ response: resp, json: body });
  });
  await page.goto(`${URL}/ui/#/entries/2`);
  await page.waitForSelector("#proof-status.bad");
  assert.match(await page.textContent("#proof-status"), /root/);
  assert.ok(await page.isVisible("#alarm"));
  await page.unroute(/\/v1\/entries\/2$/);
});

async function withCheckpoint(note, f) {
  await page.route("**/checkpoint", (route) => route.fulfill({ status: 200, contentType: "text/plain; charset=utf-8", body: note }));
  try {
    await f();
  } finally {
    await page.unroute("**/checkpoint");
  }
}

async function expectAlarm(pattern) {
  await page.goto(`${URL}/ui/#/entries`);
  await page.goto(`${URL}/ui/#/`);
  await page.waitForSelector("#alarm:not([hidden])");
  assert.match(await page.textContent("#alarm"), pattern);
}

await check("a checkpoint with a bad signature raises the alarm", async () => {
  const real = await (await fetch(`${URL}/checkpoint`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
  // One bit of the signature, not of the root: a changed root would also fail the proof of
  // any entry on screen, and which alarm came first would be a race.
  const lines = real.split("\n");
  const at = lines.findIndex((l) => l.startsWith("\u2014 "));
  const [dash, name, sig] = lines[at].split(" ");
  const bytes = Buffer.from(sig, "base64");
  bytes[10] ^= 0x10;
  lines[at] = [dash, name, bytes.toString("base64")].join(" ");
  await withCheckpoint(lines.join("\n"), () => expectAlarm(/does not verify/));
  await page.click("#ack-alarm");
  assert.ok(await page.isHidden("#alarm"));
});

await check("a rollback to an older signed checkpoint raises the alarm, and it stands after a reload", async () => {
  await withCheckpoint(OLD_NOTE, () => expectAlarm(/rollback/));
  await shot(page, "alarm");
  // The alarm is kept by the browser, not by the page: a reload shows it again.
  await page.reload();
  await page.waitForSelector("#alarm:not([hidden])");
  assert.match(await page.textContent("#alarm"), /rollback/);
  await page.click("#ack-alarm");
});

await check("a fork (a second signed root for the same size) raises the alarm", async () => {
  await signIn(page, TOKEN, VKEY);
  await page.waitForSelector("#sig-status.ok");
  await withCheckpoint(FORK_NOTE, () => expectAlarm(/fork/));
  await page.click("#ack-alarm");
});

await check("roles apply as on the API: a reader may not read entries", async () => {
  const { page: p } = await newPage();
  await signIn(p, READER, VKEY);
  await p.waitForSelector("#sig-status.ok");
  await p.goto(`${URL}/ui/#/entries`);
  await p.waitForSelector("#entries .bad");
  assert.match(await p.textContent("#entries .bad"), /role/);
});

await check("trust on first use: an empty key field pins the server's key and says so", async () => {
  const { page: p } = await newPage();
  await signIn(p, TOKEN, "");
  await p.waitForSelector("#sig-status.ok");
  assert.equal(await p.evaluate(() => localStorage.getItem("glasslog.vkey")), VKEY);
});

await check("break-glass from request to review, and its report verified", async () => {
  const { page: p } = await newPage();
  // Alice requests access.
  await signIn(p, BG.alice, VKEY);
  await p.waitForSelector("#sig-status.ok");
  await p.goto(`${URL}/ui/#/breakglass`);
  await p.click("#request-access");
  await p.fill("#bg-justification", "primary database is down");
  await p.fill("#bg-ticket", "INC-42");
  await p.fill("#bg-resources", "db/prod-*");
  await p.fill("#bg-actions", "restart*, read*");
  await p.fill("#bg-minutes", "30");
  await p.click("#request button[type=submit]");
  await p.waitForSelector("#session-status");
  assert.equal(await p.textContent("#session-status"), "pending");
  const id = (await p.textContent("h2")).replace("Session ", "");
  // Alice may not approve her own request: the server says so, the console shows it.
  await p.click("#approve");
  await p.waitForFunction(() => document.querySelector("#step-error")?.textContent.length > 0);
  // Bob, the approver, finds it waiting and approves it.
  await signIn(p, BG.bob, VKEY);
  await p.waitForSelector("#sig-status.ok");
  await p.goto(`${URL}/ui/#/breakglass`);
  await p.waitForSelector(`#pending tr[data-session="${id}"]`);
  await p.click(`#pending tr[data-session="${id}"] a`);
  await p.click("#approve");
  await p.waitForFunction(() => document.querySelector("#session-status")?.textContent === "active");
  // A service acts under the session.
  const r = await fetch(`${URL}/v1/entries`, {
    method: "POST",
    headers: { Authorization: `Bearer ${BG.alice}`, "Content-Type": "application/json", "Glasslog-Breakglass-Session": id },
    body: JSON.stringify({ actor: "alice", action: "restart", resource: "db/prod-1" }),
  });
  assert.equal(r.status, 201, await r.text());
  // Alice closes it.
  await signIn(p, BG.alice, VKEY);
  await p.waitForSelector("#sig-status.ok");
  await p.goto(`${URL}/ui/#/breakglass/${id}`);
  await p.fill("#step-reason", "database back up");
  await p.click("#close");
  await p.waitForFunction(() => document.querySelector("#session-status")?.textContent === "closed");
  // Erin, an auditor, finds it waiting for review, reviews it, and gets the report.
  await signIn(p, BG.erin, VKEY);
  await p.waitForSelector("#sig-status.ok");
  await p.goto(`${URL}/ui/#/breakglass`);
  await p.waitForSelector(`#review tr[data-session="${id}"]`);
  await p.click(`#review tr[data-session="${id}"] a`);
  await p.selectOption("#review-verdict", "appropriate");
  await p.fill("#review-notes", "restart only, as requested");
  await p.click("#review");
  await p.waitForFunction(() => /Reviewed by erin: appropriate/.test(document.querySelector("#timeline")?.textContent ?? ""));
  const steps = await p.$$eval("#timeline li", (li) => li.map((x) => x.textContent));
  for (const want of [/Requested by alice/, /Approved by bob/, /Active/, /Closed by alice: database back up/, /Reviewed by erin/])
    assert.ok(steps.some((t) => want.test(t)), `${want} not in the timeline: ${steps.join(" | ")}`);
  assert.equal(await p.textContent("#session-actions"), "1");
  await shot(p, "breakglass");
  await p.click("#get-report");
  await p.waitForSelector("#report-status.ok");
  const download = p.waitForEvent("download");
  await p.click("#report-download");
  const file = await (await download).path();
  const report = readFileSync(file, "utf8");
  assert.ok(report.includes(`"session":"${id}"`));
  assert.match(await p.textContent("#report"), /summary matches the entries/);
  // The downloaded report verifies offline too; with its summary or one entry changed, it fails.
  await p.goto(`${URL}/ui/#/verify`);
  await p.fill("#verify-vkey", VKEY);
  await p.setInputFiles("#verify-file", { name: "report.json", mimeType: "application/json", buffer: Buffer.from(report) });
  await p.waitForSelector("#verify-status.ok");
  const forged = JSON.parse(report);
  forged.summary.review.verdict = "inappropriate";
  const verdictFor = (name) => p.waitForFunction((n) => document.querySelector("#verify-status")?.textContent.startsWith(n), name);
  await p.setInputFiles("#verify-file", { name: "forged-summary.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(forged)) });
  await verdictFor("forged-summary.json");
  assert.match(await p.textContent("#verify-status"), /does not verify: the summary does not match the entries: review.verdict/);
  const dropped = JSON.parse(report);
  dropped.entries.splice(1, 1);
  await p.setInputFiles("#verify-file", { name: "dropped-entry.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(dropped)) });
  await verdictFor("dropped-entry.json");
  assert.match(await p.textContent("#verify-status"), /does not verify: the summary does not match/);
  // The session's entries, found through the search index: the request, its steps and the
  // action, newest first, the action among them.
  await p.goto(`${URL}/ui/#/breakglass/${id}`);
  await p.waitForSelector("#session-search");
  const sessionEntries = await p.$$eval("#session-entries a", (as) => as.map((a) => Number(a.textContent.slice(1))));
  assert.ok(sessionEntries.length >= 4, `${sessionEntries}`);
  await p.click("#session-search");
  await shown(p);
  const found = await p.$$eval("table.entries tbody tr", (rs) => rs.map((r) => Number(r.dataset.index)));
  assert.ok(sessionEntries.every((i) => found.includes(i)), `${sessionEntries} not all in ${found}`);
  assert.ok(found.every((v, n) => n === 0 || found[n - 1] > v), "newest first");
  assert.ok(await p.$$eval("table.entries tbody tr", (rs) => rs.some((r) => r.children[4].textContent === "restart")), "the action is not among them");
});

await check("a tlog-proof and a proof bundle verify offline, in the page opened from disk", async () => {
  const { page: p } = await newPage();
  await p.goto(`file://${DIST}/index.html`);
  await p.waitForSelector("#verify-file");
  await p.fill("#verify-vkey", VKEY);
  await p.setInputFiles("#verify-file", TLOG_PROOF);
  await p.waitForSelector("#verify-status.ok");
  assert.match(await p.textContent("#verify-result"), /Entry \d+ is included/);
  await shot(p, "verify");
  // The same file with one byte of its entry changed, or checked with another log's key, fails.
  const text = readFileSync(TLOG_PROOF, "utf8");
  const lines = text.split("\n");
  const extra = Buffer.from(lines[1].slice("extra ".length), "base64").toString().replace('"glasslog":1', '"glasslog":2');
  lines[1] = `extra ${Buffer.from(extra).toString("base64")}`;
  await p.setInputFiles("#verify-file", { name: "tampered.tlog-proof", mimeType: "text/plain", buffer: Buffer.from(lines.join("\n")) });
  await p.waitForSelector("#verify-status.bad");
  assert.match(await p.textContent("#verify-status"), /tampered.tlog-proof: does not verify/);
  // glasslog's JSON bundle of the same proof verifies too, and fails with one path hash changed.
  await p.setInputFiles("#verify-file", PROOF_BUNDLE);
  await p.waitForSelector("#verify-status.ok");
  assert.match(await p.textContent("#verify-result"), /Entry \d+ is included/);
  const bundle = JSON.parse(readFileSync(PROOF_BUNDLE, "utf8"));
  const hash = Buffer.from(bundle.audit_path[0], "base64");
  hash[3] ^= 0x20;
  bundle.audit_path[0] = hash.toString("base64");
  await p.setInputFiles("#verify-file", { name: "tampered.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(bundle)) });
  await p.waitForSelector("#verify-status.bad");
  assert.match(await p.textContent("#verify-status"), /tampered.json: does not verify/);
});

await browser.close();
if (failures.length) {
  console.error(`${failures.length} failure(s):\n${failures.join("\n")}`);
  process.exit(1);
}
console.log("all steps passed");
