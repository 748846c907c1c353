// Browser test of OpenID Connect (issue 15): headless Chromium signs in to a relying party with
// `openid profile email` (the consent page says what signing in shares), then the relying party
// asks to sign the user out without an id_token_hint: the confirmation page (CSRF form) comes
// first, and only its button ends the session and returns to the registered URI with `state`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { shots, startHarness } from "./harness.mjs";
import { admin as adminAt } from "../support/provider.mjs";

let harness, info, browser, REDIRECT;
let callback;

before(async () => {
  harness = await startHarness([], (url) => {
    callback = url;
  });
  ({ info, browser, redirect: REDIRECT } = harness);
});

after(() => harness?.stop());

const admin = (path, body) => adminAt(info, path, body);

test("consent for openid profile email, then RP-initiated logout with confirmation", async () => {
  const bye = `${REDIRECT}?signed_out=1`;
  const client = await admin("/api/admin/clients", {
    client_name: "Photo Club", redirect_uris: [REDIRECT], post_logout_redirect_uris: [bye],
    scope: "openid profile email",
  });
  await admin("/api/admin/users", { email: "ada@example.com", password: "correct horse battery", name: "Ada" });

  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${info.url}/api/oauth/authorize`);
  Object.entries({
    response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT,
    scope: "openid profile email", state: "st-1", nonce: "n-1",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).forEach(([k, v]) => url.searchParams.set(k, v));

  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await context.newPage();
  await page.goto(url.href);
  await page.fill('input[name="email"]', "ada@example.com");
  await page.fill('input[name="password"]', "correct horse battery");
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);

  assert.equal(await page.textContent("h1"), "Sign in to Photo Club");
  const text = await page.textContent("body");
  assert.ok(
    text.includes("Signing in shares your account id, your name and picture, your email address with Photo Club."),
    text,
  );
  for (const s of ["Know who you are (your account id)", "See your name and picture", "See your email address"]) {
    assert.ok(text.includes(s), `consent page shows ${s}`);
  }
  await page.screenshot({ path: join(shots, "oidc-1-consent.png"), fullPage: true });
  await Promise.all([page.waitForURL(`${REDIRECT}**`), page.click('button[name="decision"][value="approve"]')]);
  assert.equal(callback.searchParams.get("state"), "st-1");
  const code = callback.searchParams.get("code");

  const r = await fetch(`${info.url}/api/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "Basic " + Buffer.from(`${client.client_id}:${client.client_secret}`).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }),
  });
  const tokens = await r.json();
  assert.equal(r.status, 200, JSON.stringify(tokens));
  const claims = JSON.parse(Buffer.from(tokens.id_token.split(".")[1], "base64url"));
  assert.equal(claims.nonce, "n-1");
  assert.equal(claims.name, "Ada");

  // The relying party signs the user out without a hint: the provider asks first.
  callback = undefined;
  const logout = new URL(`${info.url}/api/oauth/logout`);
  Object.entries({ client_id: client.client_id, post_logout_redirect_uri: bye, state: "bye-2" })
    .forEach(([k, v]) => logout.searchParams.set(k, v));
  await page.goto(logout.href);
  assert.equal(await page.textContent("h1"), "Sign out?");
  assert.match(await page.textContent("body"), /Photo Club asks to sign you out/);
  assert.equal(callback, undefined, "no redirect before the user confirms");
  await page.screenshot({ path: join(shots, "oidc-2-logout-confirm.png"), fullPage: true });
  await Promise.all([page.waitForURL(`${REDIRECT}**`), page.click('button[type="submit"]')]);
  assert.equal(callback.searchParams.get("signed_out"), "1");
  assert.equal(callback.searchParams.get("state"), "bye-2");

  // The session is over.
  await page.goto(`${info.url}/api/oauth/logout`);
  assert.match(await page.textContent("body"), /not signed in/);
  await context.close();
});
