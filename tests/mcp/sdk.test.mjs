// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk) connecting to the example
// API's /mcp through the provider, both in workerd (scripts/serve-test.mjs --gallery, which
// lists the API's origin and /mcp in RESOURCES as `make dev` does). The SDK discovers the
// provider through RFC 9728 metadata, sends RFC 8707 `resource` at authorize and token, and
// validates every JSON document strictly. The user's part (sign-in, consent) is done with
// plain HTTP requests standing in for the browser. The server runs with
// DYNAMIC_REGISTRATION=open and CLIENT_METADATA_DOCUMENTS=loopback, as `make dev` does, for
// the registration and the metadata-document paths.
//   node --test tests/mcp/*.test.mjs (after `sh scripts/build.sh && sh scripts/build-gallery-api.sh`)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { startProvider, backendArgs, PASSWORD, admin as adminAt, signInAndApprove as approveAt } from "../support/provider.mjs";

const REDIRECT = "http://127.0.0.1:53682/callback";
let info;

// As `make dev` runs it: dynamic registration open, metadata documents on loopback.
before(async () => {
  info = await startProvider(["--gallery", ...backendArgs(),
    "--var", "DYNAMIC_REGISTRATION=open", "--var", "CLIENT_METADATA_DOCUMENTS=loopback"]);
});

after(() => info.stop());

const admin = (path, body) => adminAt(info, path, body);

/// An in-memory OAuthClientProvider, as an application would write one.
function memoryProvider(clientInformation) {
  const saved = { clientInformation, tokens: undefined, verifier: undefined, authorizationUrl: undefined };
  return {
    saved,
    get redirectUrl() { return REDIRECT; },
    get clientMetadata() {
      return { client_name: "SDK test client", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
    },
    clientInformation: () => saved.clientInformation,
    saveClientInformation: (c) => { saved.clientInformation = c; },
    tokens: () => saved.tokens,
    saveTokens: (t) => { saved.tokens = t; },
    redirectToAuthorization: (url) => { saved.authorizationUrl = url; },
    saveCodeVerifier: (v) => { saved.verifier = v; },
    codeVerifier: () => saved.verifier,
  };
}

/// The browser's part: sign in, approve every requested scope; returns the code.
async function signInAndApprove(authorizationUrl, email) {
  const back = await approveAt(info, authorizationUrl, email);
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
  return back.searchParams.get("code");
}

/// Connects as the SDK does: a 401 starts authorization, the code finishes it, then again.
async function connect(provider, email) {
  const mcpUrl = new URL(`${info.galleryUrl}/mcp`);
  const client = new Client({ name: "edge-oauth sdk test", version: "1.0.0" });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider })),
    UnauthorizedError);
  const authUrl = provider.saved.authorizationUrl;
  assert.ok(authUrl, "the SDK asked for authorization");
  // RFC 8707: the SDK sends the protected resource's own URL.
  assert.equal(authUrl.searchParams.get("resource"), mcpUrl.href);
  assert.equal(authUrl.searchParams.get("scope"), "profile:read galleries:read galleries:write images:read");
  const code = await signInAndApprove(authUrl, email);
  const transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
  await transport.finishAuth(code);
  await client.connect(transport);
  return client;
}

async function exerciseTools(client) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), ["get_profile", "list_galleries", "create_gallery", "list_images"]);
  const made = await client.callTool({ name: "create_gallery", arguments: { name: "From the SDK" } });
  assert.equal(made.isError, false);
  assert.equal(made.structuredContent.name, "From the SDK");
  const listed = await client.callTool({ name: "list_galleries", arguments: {} });
  assert.equal(listed.structuredContent.galleries[0].name, "From the SDK");
  const me = await client.callTool({ name: "get_profile", arguments: {} });
  assert.equal(me.structuredContent.scope, "profile:read galleries:read galleries:write images:read");
}

test("a pre-registered public client connects with the SDK, lists and calls tools", async () => {
  const registered = await admin("/api/admin/clients", {
    client_name: "Pre-registered MCP client", redirect_uris: [REDIRECT],
    scope: "profile:read galleries:read galleries:write images:read", token_endpoint_auth_method: "none",
  });
  await admin("/api/admin/users", { email: "sdk-pre@example.com", password: PASSWORD });
  const provider = memoryProvider({ client_id: registered.client_id });
  const client = await connect(provider, "sdk-pre@example.com");
  await exerciseTools(client);
  // The token the SDK holds is for /mcp only: the REST API (default audience) refuses it.
  const r = await fetch(`${info.galleryUrl}/api/v1/me`, {
    headers: { authorization: `Bearer ${provider.saved.tokens.access_token}` },
  });
  assert.equal(r.status, 401);
  await client.close();
});

test("the SDK registers itself (RFC 7591) when it has no client, then connects", async () => {
  await admin("/api/admin/users", { email: "sdk-dcr@example.com", password: PASSWORD });
  const provider = memoryProvider(undefined);
  const client = await connect(provider, "sdk-dcr@example.com");
  // What the SDK stored from the registration answer (validated by its strict schema).
  const registered = provider.saved.clientInformation;
  assert.ok(registered.client_id);
  assert.deepEqual(registered.redirect_uris, [REDIRECT]);
  assert.equal(registered.token_endpoint_auth_method, "none");
  await exerciseTools(client);
  await client.close();
  // An ordinary client of the provider, unverified.
  const r = await fetch(`${info.url}/api/admin/clients/${registered.client_id}`, {
    headers: { authorization: `Bearer ${info.adminToken}` },
  });
  assert.equal((await r.json()).verified, false);
});

test("a client identified by its metadata document (URL client_id) connects", async () => {
  // The document, served on loopback (the SDK itself only offers https client_id URLs, so
  // the client information is given as an application that chose this URL would store it).
  const docs = createServer((req, res) => {
    const id = `http://127.0.0.1:${docs.address().port}/client.json`;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ client_id: id, client_name: "Document client", redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"] }));
  });
  await new Promise((resolve) => docs.listen(0, "127.0.0.1", resolve));
  const docUrl = `http://127.0.0.1:${docs.address().port}/client.json`;
  const meta = await (await fetch(`${info.url}/.well-known/oauth-authorization-server`)).json();
  assert.equal(meta.client_id_metadata_document_supported, true);
  await admin("/api/admin/users", { email: "sdk-doc@example.com", password: PASSWORD });
  const provider = memoryProvider({ client_id: docUrl });
  const client = await connect(provider, "sdk-doc@example.com");
  await exerciseTools(client);
  await client.close();
  docs.close();
});

test("a token for another audience is refused by /mcp", async () => {
  const machine = await admin("/api/admin/clients", {
    client_name: "Machine", redirect_uris: [REDIRECT], scope: "profile:read",
    grant_types: ["client_credentials"],
  });
  const tokenFor = async (resource) => {
    const fields = { grant_type: "client_credentials", client_id: machine.client_id, client_secret: machine.client_secret };
    if (resource) fields.resource = resource;
    const r = await fetch(`${info.url}/api/oauth/token`, { method: "POST", body: new URLSearchParams(fields) });
    assert.equal(r.status, 200);
    return (await r.json()).access_token;
  };
  for (const token of [await tokenFor(undefined), await tokenFor(info.galleryUrl)]) {
    const r = await fetch(`${info.galleryUrl}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(r.status, 401);
    assert.match(r.headers.get("www-authenticate"), /error="invalid_token"/);
    assert.match(r.headers.get("www-authenticate"), /resource_metadata="[^"]*\/\.well-known\/oauth-protected-resource\/mcp"/);
  }
  // The same client with resource = the /mcp URL is accepted.
  const ok = await fetch(`${info.galleryUrl}/mcp`, {
    method: "POST",
    headers: { authorization: `Bearer ${await tokenFor(`${info.galleryUrl}/mcp`)}`, "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  assert.equal(ok.status, 200);
});
