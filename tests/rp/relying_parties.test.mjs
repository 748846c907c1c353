// The README's "Sign in with edge-oauth" snippets, run: openid-client (v6) and Auth.js (through
// @auth/core 0.41.0, the engine of next-auth v5) sign a user in against the built Worker in
// workerd, configured only by discovery, with PKCE, state and nonce, and verify the ID token
// themselves (signature from the JWKS, iss, aud, nonce, at_hash where they check it). The
// user's part (sign-in, consent) is plain HTTP standing in for the browser.
//   node --test tests/rp/*.test.mjs (after `sh scripts/build.sh`; EDGE_STATE_BACKEND=kv for KV)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as client from "openid-client";
import { Auth } from "@auth/core";
import { startProvider, backendArgs, PASSWORD, admin, signInAndApprove } from "../support/provider.mjs";

let info;

before(async () => {
  info = await startProvider(backendArgs());
});

after(() => info.stop());

/// A built-in account (with a name, for the profile claims) and a confidential client.
async function userAndClient({ email, name, redirectUri, clientName }) {
  await admin(info, "/api/admin/users", { email, password: PASSWORD, name });
  return admin(info, "/api/admin/clients", {
    client_name: clientName, redirect_uris: [redirectUri], scope: "openid profile email",
  });
}

test("openid-client: discovery, code with PKCE and nonce, verified ID token, userinfo, refresh", async () => {
  const redirectUri = "http://127.0.0.1:53690/callback";
  const email = "openid-client@example.com";
  const app = await userAndClient({ email, name: "Ada Lovelace", redirectUri, clientName: "openid-client app" });
  // As in the README; only the loopback issuer needs allowInsecureRequests (http).
  const config = await client.discovery(new URL(info.url), app.client_id, app.client_secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  assert.equal(config.serverMetadata().issuer, info.url);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: "openid profile email", nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const callbackUrl = await signInAndApprove(info, url, email);
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: verifier, expectedNonce: nonce,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, info.url);
  assert.equal(claims.aud, app.client_id);
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.email, email);
  assert.equal(claims.name, "Ada Lovelace");
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(userinfo.sub, claims.sub);
  assert.equal(userinfo.email, email);
  // A refresh answers a new ID token for the same subject and sign-in (OIDC Core §12.2).
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, claims.sub);
  assert.equal(refreshed.claims().auth_time, claims.auth_time);
  // The library refuses a code answered to another nonce: it checks what it is given.
  const again = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: "openid", nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const second = await signInAndApprove(info, again, email);
  await assert.rejects(
    client.authorizationCodeGrant(config, second, { pkceCodeVerifier: verifier, expectedNonce: nonce }),
    (e) => /"nonce"/.test(e.cause?.message) || assert.fail(`refused for another reason: ${e.cause ?? e}`),
  );
});

/// Auth.js as a Next.js app runs it: requests to /api/auth/* handled by Auth(), cookies kept
/// by the "browser" (a jar here).
function authJsApp(app) {
  const origin = "http://127.0.0.1:3000";
  const errors = [];
  const config = {
    secret: "a test secret for the Auth.js session cookie, 32+ characters",
    trustHost: true,
    basePath: "/api/auth",
    logger: { error: (e) => errors.push(e), warn: () => {}, debug: () => {} },
    // The README's provider entry, with the test server as issuer.
    providers: [{
      id: "edge-oauth", name: "edge-oauth", type: "oidc",
      issuer: info.url,
      clientId: app.client_id,
      clientSecret: app.client_secret,
      authorization: { params: { scope: "openid profile email" } },
      checks: ["pkce", "state", "nonce"],
    }],
  };
  const jar = new Map();
  const request = async (path, init = {}) => {
    const headers = { ...(init.headers || {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") };
    const r = await Auth(new Request(new URL(path, origin), { ...init, headers }), config);
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return r;
  };
  return { origin, errors, request };
}

test("Auth.js: sign in with the generic OIDC provider of the README, session with the user", async () => {
  const email = "authjs@example.com";
  const callback = "http://127.0.0.1:3000/api/auth/callback/edge-oauth";
  const app = await userAndClient({ email, name: "Grace Hopper", redirectUri: callback, clientName: "Auth.js app" });
  const authjs = authJsApp(app);
  const { csrfToken } = await (await authjs.request("/api/auth/csrf")).json();
  const started = await authjs.request("/api/auth/signin/edge-oauth", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken, callbackUrl: "/" }).toString(),
  });
  assert.equal(started.status, 302, JSON.stringify(authjs.errors.map(String)));
  const authorizationUrl = new URL(started.headers.get("location"));
  assert.equal(authorizationUrl.origin, info.url, `Auth.js went to ${authorizationUrl}`);
  assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
  assert.ok(authorizationUrl.searchParams.get("nonce"));
  const back = await signInAndApprove(info, authorizationUrl, email);
  assert.equal(`${back.origin}${back.pathname}`, callback);
  const done = await authjs.request(`${back.pathname}${back.search}`);
  assert.deepEqual(authjs.errors.map(String), []);
  assert.equal(done.status, 302);
  assert.equal(done.headers.get("location"), `${authjs.origin}/`);
  const session = await (await authjs.request("/api/auth/session")).json();
  assert.equal(session.user.email, email);
  assert.equal(session.user.name, "Grace Hopper");
});
