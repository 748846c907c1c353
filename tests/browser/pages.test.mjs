// Browser test of the pages: headless Chromium (Playwright) on a phone-sized viewport signs in,
// grants part of the requested scopes on the consent page, follows the redirect back to the
// client, then revokes the app on /account/apps. Run by scripts/test.sh with `node --test`.
// Screenshots land in target/browser-screenshots/ for a person to look at.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { root, shots, startHarness } from "./harness.mjs";
import { admin as adminAt } from "../support/provider.mjs";

let harness, info, browser, REDIRECT;
let callback; // the URL the client's callback received

before(async () => {
  harness = await startHarness([], (url) => {
    callback = url;
  });
  ({ info, browser, redirect: REDIRECT } = harness);
});

after(() => harness?.stop());

const admin = (path, body) => adminAt(info, path, body);

test("sign in, grant part of the scopes, come back with a code, then revoke the app", async () => {
  const client = await admin("/api/admin/clients", {
    client_name: "Album <Printer>", description: "Prints your photo albums",
    client_uri: "https://printer.example", redirect_uris: [REDIRECT],
    scope: "profile:read images:read images:write",
  });
  await admin("/api/admin/users", { email: "ada@example.com", password: "correct horse battery" });

  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const url = new URL(`${info.url}/api/oauth/authorize`);
  Object.entries({
    response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT,
    scope: "profile:read images:read images:write", state: "xyz-123",
    code_challenge: challenge, code_challenge_method: "S256",
  }).forEach(([k, v]) => url.searchParams.set(k, v));

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(url.href);
  assert.match(await page.textContent("body"), /Album <Printer>/, "client name shown, escaped as text");
  await page.screenshot({ path: join(shots, "1-login.png"), fullPage: true });
  await page.fill('input[name="email"]', "ada@example.com");
  await page.fill('input[name="password"]', "correct horse battery");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);

  const text = await page.textContent("body");
  for (const s of ["View images", "Upload, update and delete images", "Prints your photo albums"]) {
    assert.ok(text.includes(s), `consent page shows ${s}`);
  }
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 390, `no horizontal scrolling on a phone (${scrollWidth}px)`);
  await page.screenshot({ path: join(shots, "2-consent.png"), fullPage: true });
  await page.uncheck('input[name="scope"][value="images:write"]');
  await Promise.all([page.waitForURL(`${REDIRECT}**`), page.click('button[name="decision"][value="approve"]')]);

  assert.ok(callback, "redirected to the client");
  assert.equal(callback.searchParams.get("state"), "xyz-123");
  assert.equal(callback.searchParams.get("iss"), info.url);
  const code = callback.searchParams.get("code");
  assert.ok(code && code.length >= 43);

  const token = await fetch(`${info.url}/api/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "Basic " + Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }),
  }).then((r) => r.json());
  assert.equal(token.scope, "profile:read images:read", "only the checked scopes were granted");

  // The session cookie is HttpOnly (not visible to page scripts) and SameSite=Lax.
  const cookies = await context.cookies(info.url);
  const session = cookies.find((c) => c.name === "edge_oauth_session");
  assert.ok(session && session.httpOnly && session.sameSite === "Lax");
  assert.equal(await page.evaluate(() => document.cookie.includes("edge_oauth_session")), false);

  await page.goto(`${info.url}/account/apps`);
  assert.match(await page.textContent("body"), /Album <Printer>/);
  const appsWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(appsWidth <= 390, `apps page fits a phone (${appsWidth}px)`);
  await page.screenshot({ path: join(shots, "3-apps.png"), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Revoke access")')]);
  assert.doesNotMatch(await page.textContent("body"), /Album <Printer>/, "app gone after revoke");

  const introspection = await fetch(`${info.url}/api/oauth/introspect`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: token.access_token, client_id: client.client_id, client_secret: client.client_secret }),
  }).then((r) => r.json());
  assert.deepEqual(introspection, { active: false });
  await context.close();
});

test("delegated login: the platform's auto-posting hand-back form signs the browser in", async () => {
  const { createServer } = await import("node:http");
  const { createHmac } = await import("node:crypto");
  // A second provider in delegated mode, and a platform whose user is already signed in.
  let platformUrl;
  const platform = createServer((req, res) => {
    const url = new URL(req.url, platformUrl);
    if (url.pathname !== "/login") {
      res.statusCode = 404;
      return res.end();
    }
    const now = Math.floor(Date.now() / 1000);
    const b64url = (v) => Buffer.from(v).toString("base64url");
    const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const body = b64url(JSON.stringify({
      sub: "platform-user-9", email: "grace@platform.example", aud: delegated.url,
      iat: now, exp: now + 120, jti: randomBytes(8).toString("hex"), nonce: url.searchParams.get("nonce"),
    }));
    const sig = createHmac("sha256", delegated.assertionSecret).update(`${head}.${body}`).digest("base64url");
    const esc = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    res.setHeader("content-type", "text/html");
    res.end(`<!DOCTYPE html><html><body onload="document.forms[0].submit()">
      <form method="post" action="${delegated.url}/api/oauth/login/assertion">
      <input type="hidden" name="assertion" value="${head}.${body}.${sig}">
      <input type="hidden" name="return_to" value="${esc(url.searchParams.get("return_to"))}">
      </form></body></html>`);
  });
  await new Promise((resolve) => platform.listen(0, "127.0.0.1", resolve));
  platformUrl = `http://127.0.0.1:${platform.address().port}`;
  const proc = spawn(process.execPath, [join(root, "scripts/serve-test.mjs"),
    "--var", "LOGIN_MODE=delegated", "--var", `LOGIN_URL=${platformUrl}/login`], { stdio: ["pipe", "pipe", "inherit"] });
  const delegated = await new Promise((resolve, reject) => {
    proc.stdout.once("data", (d) => resolve(JSON.parse(d.toString().split("\n")[0])));
    proc.once("exit", (code) => reject(new Error(`serve-test exited ${code}`)));
  });
  try {
    const r = await fetch(`${delegated.url}/api/admin/clients`, {
      method: "POST",
      headers: { authorization: `Bearer ${delegated.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ client_name: "Gallery Sync", redirect_uris: [REDIRECT], scope: "profile:read" }),
    });
    const client = await r.json();
    const challenge = createHash("sha256").update(randomBytes(32).toString("base64url")).digest("base64url");
    const url = `${delegated.url}/api/oauth/authorize?response_type=code&client_id=${client.client_id}` +
      `&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${challenge}&code_challenge_method=S256`;
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    // authorize → platform login (auto-post) → assertion → consent page
    await page.goto(url);
    await page.waitForSelector('button[name="decision"][value="approve"]');
    assert.match(await page.textContent("body"), /grace@platform\.example/);
    await context.close();
  } finally {
    proc.stdin.end();
    platform.close();
  }
});
