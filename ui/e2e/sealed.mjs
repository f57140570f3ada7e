//! The console in a real browser against a log encrypted at rest: a sealed entry's plaintext
//! is checked against its sealed record and the record's leaf against the signed root, a
//! plaintext changed on the wire is caught, and an erased entry says so.
//!
//! Run by tests/e2e/console.rs (`the_console_verifies_sealed_entries_and_shows_erased_ones`),
//! which starts the sealed server, writes the entries and erases one actor. Environment:
//! GLASSLOG_URL, GLASSLOG_TOKEN (auditor or admin), GLASSLOG_VKEY, GLASSLOG_SEALED_INDEX,
//! GLASSLOG_ERASED_INDEX, CHROMIUM (default /usr/bin/chromium).

import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const URL = env("GLASSLOG_URL");
const TOKEN = env("GLASSLOG_TOKEN");
const VKEY = env("GLASSLOG_VKEY");
const SEALED = Number(env("GLASSLOG_SEALED_INDEX"));
const ERASED = Number(env("GLASSLOG_ERASED_INDEX"));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
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
const context = await browser.newContext();
const page = await context.newPage();
page.setDefaultTimeout(15_000);
page.on("pageerror", (e) => failures.push(`${step}: page error: ${e.message}`));
page.on("request", (r) => {
  if (!r.url().startsWith(URL)) failures.push(`${step}: a request left the server's origin: ${r.url()}`);
});

await check("sign in to the sealed log", async () => {
  await page.goto(`${URL}/ui/#/signin`);
  await page.fill("#token", TOKEN);
  await page.fill("#vkey", VKEY);
  await page.click("#signin button[type=submit]");
  await page.waitForSelector("#sig-status.ok");
});

await check("a sealed entry: its plaintext checked against its record, the record's leaf included", async () => {
  await page.goto(`${URL}/ui/#/entries/${SEALED}`);
  await page.waitForSelector("#proof-status.ok");
  assert.match(await page.textContent("#proof-status"), /Included/);
  assert.match(await page.textContent("pre.stored"), /bob-private-note/);
  await page.click("#proof-steps summary");
  assert.match(await page.textContent("#proof-steps"), /sealed record commits to/);
});

await check("a plaintext changed on the wire does not match its sealed record", async () => {
  const path = new RegExp(`/v1/entries/${SEALED}$`);
  await page.route(path, async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    const text = Buffer.from(body.entry_base64, "base64").toString().replace("bob-private-note", "eve-private-note");
    body.entry_base64 = Buffer.from(text).toString("base64");
    await route.fulfill({ response: resp, json: body });
  });
  // Away and back, so the view is built again from the tampered answer.
  await page.goto(`${URL}/ui/#/`);
  await page.goto(`${URL}/ui/#/entries/${SEALED}`);
  await page.waitForSelector("#proof-status.bad");
  assert.match(await page.textContent("#proof-status"), /commits to/);
  assert.ok(await page.isVisible("#alarm"));
  await page.unroute(path);
});

await check("an erased entry says it was erased, and shows nothing of it", async () => {
  await page.goto(`${URL}/ui/#/entries/${ERASED}`);
  await page.waitForSelector("#proof-status.bad");
  assert.match(await page.textContent("#proof-status"), /erased/);
  assert.ok(!(await page.content()).includes("alice-private-note"));
});

await browser.close();
if (failures.length) {
  console.log(`\n${failures.length} failure(s):\n${failures.join("\n\n")}`);
  process.exit(1);
}
console.log("all steps passed");
