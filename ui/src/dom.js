//! A few DOM helpers. Text from the server only ever enters the page as text nodes or
//! attribute values, never as HTML, so an entry cannot script the console.

/** `h("div", { class: "x", onclick: f }, child, "text", ...)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const MARKER = /\[REDACTED:([a-z0-9_.:-]+?):([0-9a-f]{8,64})\]/g;

/**
 * Text with glasslog's redaction markers (`[REDACTED:<rule>:<fingerprint>]`) shown as marks
 * that name their rule.
 */
export function withMarkers(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(MARKER)) {
    out.push(text.slice(last, m.index));
    out.push(h("mark", { class: "redacted", title: `redacted by rule ${m[1]} (fingerprint ${m[2]})`, "data-rule": m[1] }, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

/** The redaction rules named in a text, in order of appearance, without repeats. */
export function markerRules(text) {
  return [...new Set(Array.from(text.matchAll(MARKER), (m) => m[1]))];
}

export function time(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
