// Browser test of the developer portal: headless Chromium (Playwright) on a phone-sized
// viewport signs in, creates an application, reads its secret once, completes a flow with it,
// runs "Try it", rotates the secret, checks that a second user cannot see the app, and deletes
// it. Screenshots land in target/browser-screenshots/portal-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { shots, startHarness } from "./harness.mjs";

const PASSWORD = "a long enough password";
let harness, info, browser, REDIRECT, callback;

before(async () => {
  harness = await startHarness(["--var", "BRAND_NAME=Pixel Gallery", "--var", "BRAND_COLOR=#7c3aed"], (url) => {
    callback = url;
  });
  ({ info, browser, redirect: REDIRECT } = harness);
});

after(() => harness?.stop());

async function user(email) {
  const r = await fetch(`${info.url}/api/admin/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${info.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(r.status, 201, await r.clone().text());
}

/// A phone-sized browser signed in through the portal's login redirect.
async function signIn(email) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const page = await context.newPage();
  const login = await page.goto(`${info.url}/developers`);
  assert.equal(login.status(), 200, await page.content());
  assert.equal(await page.locator('input[name="email"]').count(), 1, await page.content());
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  assert.equal(new URL(page.url()).pathname, "/developers");
  return { context, page };
}

async function fitsPhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${what} fits a phone (${width}px)`);
}

function tokenRequest(clientId, secret, fields) {
  return fetch(`${info.url}/api/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "Basic " + Buffer.from(`${clientId}:${secret}`).toString("base64"),
    },
    body: new URLSearchParams(fields),
  });
}

test("create an app, read the secret once, use it, try it, rotate, hide from others, delete", async () => {
  await user("dev@example.com");
  await user("other@example.com");
  const { context, page } = await signIn("dev@example.com");
  assert.match(await page.textContent("header.brand"), /Pixel Gallery/, "brand on the portal");
  await fitsPhone(page, "portal");
  await page.screenshot({ path: join(shots, "portal-1-list.png"), fullPage: true });

  await page.fill('input[name="client_name"]', "Album <Printer>");
  await page.fill('input[name="description"]', "Prints your albums");
  await page.fill('textarea[name="redirect_uris"]', REDIRECT);
  await page.check('input[name="scope"][value="profile:read"]');
  await page.check('input[name="scope"][value="images:read"]');
  await page.check('input[name="client_type"][value="confidential"]');
  const [created] = await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create application")')]);
  assert.equal(created.status(), 201);
  assert.equal(created.headers()["cache-control"], "no-store");
  assert.equal(new URL(page.url()).pathname, "/developers/apps", "not redirected");
  const clientId = await page.inputValue('[data-credential="client_id"]');
  const secret = await page.inputValue('[data-credential="client_secret"]');
  assert.ok(clientId && secret.length >= 43);
  // The copy buttons appear with JavaScript (the page's CSP allows only that script's hash)
  // and copy the field; without JavaScript they stay hidden and the fields are selectable.
  const copy = page.locator('button[data-copy="cs"]');
  await copy.waitFor({ state: "visible" });
  await copy.click();
  await page.waitForFunction(() => document.querySelector('button[data-copy="cs"]').textContent === "Copied");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, "the secret was copied");
  await fitsPhone(page, "credentials page");
  await page.screenshot({ path: join(shots, "portal-2-credentials.png"), fullPage: true });

  await page.click('a:has-text("Continue to the application")');
  await page.waitForURL(`**/developers/apps/${clientId}`);
  const appText = await page.content();
  assert.ok(appText.includes(clientId) && !appText.includes(secret), "secret never shown again");
  assert.match(await page.textContent("h1"), /Album <Printer>/);
  await fitsPhone(page, "application page");
  await page.screenshot({ path: join(shots, "portal-3-app.png"), fullPage: true });

  // A real flow with the credentials.
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${info.url}/api/oauth/authorize`);
  Object.entries({
    response_type: "code", client_id: clientId, redirect_uri: REDIRECT, scope: "profile:read",
    state: "s-1", code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).forEach(([k, v]) => url.searchParams.set(k, v));
  await page.goto(url.href);
  await Promise.all([page.waitForURL(`${REDIRECT}**`), page.click('button[name="decision"][value="approve"]')]);
  const code = callback.searchParams.get("code");
  let r = await tokenRequest(clientId, secret, { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(r.status, 200);
  const tokens = await r.json();
  assert.equal(tokens.scope, "profile:read");

  // Try it: the provider-hosted callback, the typed secret, the token response and claims.
  await page.goto(`${info.url}/developers/apps/${clientId}`);
  await page.check('input[name="add_callback"]');
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Try it")')]);
  if (await page.locator('button[name="decision"][value="approve"]').count()) {
    await Promise.all([page.waitForNavigation(), page.click('button[name="decision"][value="approve"]')]);
  }
  await page.waitForURL("**/developers/callback?**");
  assert.match(await page.textContent("h1"), /Authorization code received/);
  await page.fill('input[name="client_secret"]', secret);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Exchange the code")')]);
  assert.match(await page.textContent("#token-response"), /"access_token"/);
  assert.match(await page.textContent("#claims"), new RegExp(`"client_id": "${clientId}"`));
  await fitsPhone(page, "try it result");
  await page.screenshot({ path: join(shots, "portal-4-try-it.png"), fullPage: true });

  // Rotate: the new secret shown once, the old one refused at once.
  await page.goto(`${info.url}/developers/apps/${clientId}`);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Rotate secret")')]);
  const rotated = await page.inputValue('[data-credential="client_secret"]');
  assert.notEqual(rotated, secret);
  r = await tokenRequest(clientId, secret, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
  assert.equal(r.status, 401, "old secret refused");
  r = await tokenRequest(clientId, rotated, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
  assert.equal(r.status, 200, "new secret works");
  const refreshed = await r.json();

  // A second user sees nothing of it.
  const other = await signIn("other@example.com");
  assert.ok(!(await other.page.content()).includes(clientId));
  const denied = await other.page.goto(`${info.url}/developers/apps/${clientId}`);
  assert.equal(denied.status(), 404);
  await other.page.screenshot({ path: join(shots, "portal-5-other-user.png"), fullPage: true });
  await other.context.close();

  // Delete: the app and its grants are gone.
  await page.goto(`${info.url}/developers/apps/${clientId}`);
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Delete application")')]);
  assert.equal(new URL(page.url()).pathname, "/developers");
  assert.ok(!(await page.content()).includes(clientId));
  r = await tokenRequest(clientId, rotated, { grant_type: "refresh_token", refresh_token: refreshed.refresh_token });
  assert.equal(r.status, 401, "deleted client cannot use its tokens");
  const grants = await fetch(`${info.url}/api/admin/grants?client_id=${clientId}`, {
    headers: { authorization: `Bearer ${info.adminToken}` },
  }).then((x) => x.json());
  assert.deepEqual(grants.grants, []);
  await page.goto(`${info.url}/docs`);
  await fitsPhone(page, "docs");
  await page.screenshot({ path: join(shots, "portal-6-docs.png"), fullPage: true });
  await context.close();
});
