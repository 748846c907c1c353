// Shared by the Node test suites (tests/mcp, tests/rp): the built provider served in workerd by
// scripts/serve-test.mjs, its admin API, and the user's part of an authorization (sign in on
// the login form, approve every scope on the consent page) done with plain HTTP requests
// standing in for the browser.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const PASSWORD = "a long enough password";

/// The state backend a suite runs on: `EDGE_STATE_BACKEND=kv` selects the KV backend.
export const backendArgs = () =>
  ["--var", `STATE_BACKEND=${process.env.EDGE_STATE_BACKEND === "kv" ? "kv" : "durable"}`];

/// Starts serve-test.mjs with `args`; resolves to its ready line ({url, adminToken, ...}) plus
/// `stop()`, which closes its standard input (it exits with it).
export async function startProvider(args) {
  const server = spawn(process.execPath, [join(root, "scripts/serve-test.mjs"), ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const info = await new Promise((resolve, reject) => {
    server.stdout.once("data", (d) => resolve(JSON.parse(d.toString().split("\n")[0])));
    server.once("exit", (code) => reject(new Error(`serve-test exited ${code}`)));
  });
  return { ...info, stop: () => server.stdin.end() };
}

/// POST to the admin API; asserts 201 and returns the JSON answer.
export async function admin(info, path, body) {
  const r = await fetch(`${info.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 201, await r.clone().text());
  return r.json();
}

/// The browser's part of an authorization request: opens `authorizationUrl`, signs in as
/// `email`, approves every scope offered (unless a remembered consent skips the page). Returns the URL the provider sends the browser back
/// to (the client's redirect URI with `code`, `state`, `iss`).
export async function signInAndApprove(info, authorizationUrl, email) {
  const jar = new Map();
  const go = async (url, init = {}) => {
    const headers = { ...(init.headers || {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") };
    const r = await fetch(new URL(url, info.url), { ...init, headers, redirect: "manual" });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return r;
  };
  const hidden = (html, name) => {
    const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
    assert.ok(m, `no ${name} in page`);
    return m[1].replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'");
  };
  const form = (fields) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const loginPage = await (await go(authorizationUrl)).text();
  const signedIn = await go("/api/oauth/login", form([
    ["email", email], ["password", PASSWORD],
    ["csrf_token", hidden(loginPage, "csrf_token")], ["return_to", hidden(loginPage, "return_to")],
  ]));
  assert.equal(signedIn.status, 303, "signed in");
  const resumed = await go(signedIn.headers.get("location"));
  // A consent the user gave before is remembered: authorize answers the client at once.
  if (resumed.status === 302) return new URL(resumed.headers.get("location"));
  const consent = await resumed.text();
  const scopes = [...consent.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1]);
  const decided = await go("/api/oauth/authorize", form([
    ["csrf_token", hidden(consent, "csrf_token")], ["request_id", hidden(consent, "request_id")],
    ["decision", "approve"], ...scopes.map((s) => ["scope", s]),
  ]));
  assert.equal(decided.status, 303, "approved");
  return new URL(decided.headers.get("location"));
}
