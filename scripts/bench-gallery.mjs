// Figures for the example API (examples/gallery-api), run by scripts/bench.mjs (`make bench`,
// or `bash scripts/bench.sh --gallery-only`). The servers are `serve-test.mjs --gallery`: the
// provider and the API in one workerd, the API fetching the JWKS through a service binding.
// 1. Bundle: the API's build/ and `wrangler deploy --dry-run`.
// 2. Warm path (JWKS cached, key imported), interleaved batches of `GET /api/v1/me`: with a
//    valid ES256 token (200, the whole request); with a valid token that lacks profile:read
//    (403: the full verification — parse, cache lookup, WebCrypto, claims, scope check — then
//    the refusal); without a token (401: the same refusal path, no verification). 403 minus
//    401 is the verification cost per request. Once without and once with the revocation-list
//    read (one emulated KV get).
// 3. Cold path: CPU of the first API request of a fresh isolate, with a valid token (JWKS fetch
//    through the service binding, key import, verification) and, on other fresh servers, without
//    a token (the isolate's own first-request cost), each over several fresh servers.
// 4. WebCrypto ES256 verify alone (scripts/bench-worker.mjs) in the same run, for comparison.
// Tokens are minted here with the private key serve-test generated (claims as the provider's).
import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { join } from "node:path";

const b64url = (buf) => Buffer.from(buf).toString("base64url");

function mint(info, scope = "profile:read galleries:read") {
  const jwk = info.privateSigningKey;
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "ES256", typ: "at+jwt", kid: jwk.kid };
  const claims = {
    iss: info.url, sub: "bench-user", aud: info.url, client_id: "bench-client",
    scope, iat: now, exp: now + 3600, jti: b64url(randomBytes(16)),
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const { kid, alg, ...keyJwk } = jwk;
  const key = createPrivateKey({ key: keyJwk, format: "jwk" });
  return `${input}.${b64url(sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }))}`;
}

/** Mean ± standard error of paired differences (batch i of a minus batch i of b), per request. */
function paired(a, b) {
  const diffs = a.map((x, i) => x.sched / x.count - b[i].sched / b[i].count);
  const mean = diffs.reduce((x, y) => x + y, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, diffs.length - 1));
  return { mean, se: sd / Math.sqrt(diffs.length) };
}

export async function benchGallery(h, { n = 1500, batches = 30, coldRuns = 3 } = {}) {
  const { root, request, startServer, runBatch, expect, bundleSize, benchPrimitives, table, us, log, fail } = h;
  const out = {};

  log("== 4. Example API (examples/gallery-api) ==");
  const size = bundleSize(join(root, "examples/gallery-api"));
  table(["file", "raw bytes", "gzip -9 bytes"], size.files.map((f) => [f.file, f.raw, f.gzip]));
  if (size.upload.error) log(`wrangler deploy --dry-run: ${size.upload.error}`);
  else log(`wrangler deploy --dry-run: Total Upload ${size.upload.raw} KiB / gzip ${size.upload.gzip} KiB`);
  out.size = size;

  const perBatch = Math.ceil(n / batches);
  for (const revocation of [false, true]) {
    const server = await startServer("ES256", ["--gallery", "--gallery-var", `CHECK_REVOCATION=${revocation}`]);
    try {
      const api = server.info.galleryUrl;
      const token = mint(server.info);
      const auth = { authorization: `Bearer ${token}` };
      const valid = async () => {
        const r = expect(await request(api, "GET", "/api/v1/me", { headers: auth }), 200, "GET /api/v1/me");
        if (!r.body.includes('"bench-user"')) fail(`unexpected /me body ${r.body}`);
      };
      const anonymous = async () => expect(await request(api, "GET", "/api/v1/me"), 401, "GET /api/v1/me without token");
      const lacking = { authorization: `Bearer ${mint(server.info, "galleries:read")}` };
      const scopeless = async () => {
        const r = expect(await request(api, "GET", "/api/v1/me", { headers: lacking }), 403, "GET /api/v1/me without the scope");
        if (!/insufficient_scope/.test(r.headers["www-authenticate"] || "")) fail("expected insufficient_scope");
      };
      for (let i = 0; i < 30; i++) {
        await valid();
        await scopeless();
        await anonymous();
      }
      const a = [];
      const v = [];
      const b = [];
      for (let i = 0; i < batches; i++) {
        a.push(await runBatch(server.pid, { count: perBatch, one: valid }));
        v.push(await runBatch(server.pid, { count: perBatch, one: scopeless }));
        b.push(await runBatch(server.pid, { count: perBatch, one: anonymous }));
      }
      const total = (parts) => parts.reduce((x, p) => x + p.sched, 0) / parts.reduce((x, p) => x + p.count, 0);
      out[revocation ? "warmRevocation" : "warm"] = {
        valid: total(a), scopeless: total(v), anonymous: total(b), diff: paired(v, b), whole: paired(a, b),
      };
    } finally {
      await server.stop();
    }
  }

  // Cold: the provider is warmed first (its own JWKS request), so the API's first request pays
  // for the API isolate and the verification path, not for the provider's first request.
  const cold = { valid: [], anonymous: [] };
  for (let r = 0; r < coldRuns; r++) {
    for (const kind of ["valid", "anonymous"]) {
      const server = await startServer("ES256", ["--gallery"]);
      try {
        for (let i = 0; i < 10; i++) expect(await request(server.info.url, "GET", "/.well-known/jwks.json"), 200, "jwks");
        const headers = kind === "valid" ? { authorization: `Bearer ${mint(server.info)}` } : {};
        const status = kind === "valid" ? 200 : 401;
        const batch = await runBatch(server.pid, {
          count: 1,
          one: async () => expect(await request(server.info.galleryUrl, "GET", "/api/v1/me", { headers }), status, "first request"),
        });
        cold[kind].push({ cpu: batch.sched, ms: batch.lats[0] });
      } finally {
        await server.stop();
      }
    }
  }
  // WebCrypto alone in the same workerd, now: the floor under the verification figure.
  out.webcrypto = (await benchPrimitives({ verifyOnly: true }))["ES256 verify"];
  const mean = (xs, k) => xs.reduce((x, y) => x + y[k], 0) / xs.length;
  out.cold = { valid: mean(cold.valid, "cpu"), anonymous: mean(cold.anonymous, "cpu"), validMs: mean(cold.valid, "ms") };

  log(`Warm: ${batches} interleaved batches of ${perBatch} sequential requests each; cold: ${coldRuns} fresh servers each.`);
  const pm = (d) => `${us(d.mean)} ± ${us(d.se)}`;
  table(
    ["API request (workerd CPU, sched)", "us"],
    [
      ["GET /api/v1/me, valid ES256 token (200, warm)", us(out.warm.valid)],
      ["GET /api/v1/me, valid token lacking the scope (403)", us(out.warm.scopeless)],
      ["GET /api/v1/me, no token (401, no verification)", us(out.warm.anonymous)],
      ["  verification incl. JWKS cache lookup + scope check (403 - 401)", pm(out.warm.diff)],
      ["  of which WebCrypto ES256 verify alone (JS Worker, same run)", us(out.webcrypto)],
      ["  200 - 401 (verification + handler + KV binding + response)", pm(out.warm.whole)],
      ["GET /api/v1/me, valid token, revocation list on (200)", us(out.warmRevocation.valid)],
      ["  verification incl. revocation read, emulated KV (403 - 401)", pm(out.warmRevocation.diff)],
      ["cold: first request, valid token (JWKS fetch + import)", us(out.cold.valid)],
      ["cold: first request, no token", us(out.cold.anonymous)],
      ["  cold verification path (difference)", us(out.cold.valid - out.cold.anonymous)],
    ],
  );
  log(`cold first request with a valid token: ${out.cold.validMs.toFixed(1)} ms wall clock (mean)`);
  const met = out.warm.diff.mean <= 150;
  log(`Target: ES256 verification <= 150 us per request (warm): ${pm(out.warm.diff)} us -> ${met ? "met" : "NOT met"}`);
  if (!size.upload.error) log(`API bundle: ${(size.upload.gzip * 1.024).toFixed(1)} kB gzip (wrangler)`);
  log("");
  return out;
}
