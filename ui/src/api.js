//! The console's one way to the server: same-origin fetches with the token in a header.
//!
//! The token lives in this module's memory for the life of the tab: never in localStorage,
//! sessionStorage, cookies or URLs, so closing the tab forgets it and no other page of the
//! origin can read it.

let token = null;

/** A refused or failed request, carrying the server's problem+json (RFC 9457) if it sent one. */
export class ApiError extends Error {
  constructor(status, problem, path) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status} from ${path}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

export function signIn(t) {
  token = t && t.trim() ? t.trim() : null;
}

export function signOut() {
  token = null;
}

export const signedIn = () => token !== null;

async function request(path, { method = "GET", body, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  if (!resp.ok) {
    let problem = null;
    try {
      problem = await resp.json();
    } catch {
      // Not problem+json: the status says enough.
    }
    throw new ApiError(resp.status, problem, path);
  }
  return resp;
}

export const get = (path) => request(path);
export const getJson = async (path) => (await request(path)).json();
export const getText = async (path) => (await request(path, { accept: "text/plain" })).text();
export const postJson = async (path, body) => (await request(path, { method: "POST", body })).json();
