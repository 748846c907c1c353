// Performance figures for edge-oauth (`make bench` → scripts/bench.sh → this script).
//   node scripts/bench.mjs [--n 1000] [--tokens 300] [--users 20] [--algs ES256,EdDSA,RS256]
//                          [--crypto-ops 500]
// 1. Bundle size: build/ raw and gzip -9, and the upload size `wrangler deploy --dry-run` reports.
// 2. CPU per request inside workerd: one `scripts/serve-test.mjs` server per signing alg (fresh
//    in-memory KV and keys); utime+stime of its workerd process (/proc/PID/stat, plus the
//    threads' schedstat for ns resolution) before and after bounded batches of sequential
//    requests, divided by the count (workerd reports no per-request CPU locally). The jwks
//    request (no crypto) is the baseline. Batches of the algs are interleaved and each starts
//    once workerd is idle (no wasm tier-up or GC left over). Client-side latency p50/p99.
// 3. The same runtime without the Rust Worker (scripts/bench-worker.mjs): CPU per WebCrypto
//    sign/verify, PBKDF2 and emulated KV put/get, to read the endpoint figures against.
// 4. The example API (scripts/bench-gallery.mjs): its bundle, token verification CPU per request
//    with a warm JWKS cache, and the cold path. `--gallery-only` runs just this part.
// Only 127.0.0.1; the processes it starts are stopped by their handles. Needs Linux /proc and
// the Worker built (scripts/bench.sh builds it). Method and results: docs/performance.md.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  root, CLK_TCK, REDIRECT, log, fail, findWorkerd, request, form, FORM, b64url, expect,
  runBatch, combine, measure, startServer, us, ms, kB, table, registerClient, createUser,
  signInAndApprove, codeOf,
} from "./bench-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(opt("--n", "1000")); // requests per figure for GETs and introspection
const TOKENS = Number(opt("--tokens", "300")); // code exchanges per figure and alg
const USERS = Number(opt("--users", "20")); // account creations (PBKDF2)
const ALGS = opt("--algs", "ES256,EdDSA,RS256").split(",");
const CRYPTO_OPS = Number(opt("--crypto-ops", "500"));
const GALLERY_ONLY = args.includes("--gallery-only"); // only section 4 (the example API)
const WARMUP = 30;
const BATCHES = 3; // each figure is the mean over this many batches, interleaved across algs
const TMP_BASE = existsSync("/dev/shm") ? "/dev/shm" : undefined; // tmpfs for anything written


// ---------------------------------------------------------------- the flows

async function setup(base, admin, tag) {
  const client = await registerClient(base, admin);
  const email = `bench-${tag}@example.com`;
  await createUser(base, admin, email);
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const authorizePath =
    "/api/oauth/authorize?" +
    form([
      ["response_type", "code"],
      ["client_id", client.client_id],
      ["redirect_uri", REDIRECT],
      ["scope", "profile:read"],
      ["state", "bench"],
      ["code_challenge", challenge],
      ["code_challenge_method", "S256"],
    ]);
  // Sign in and approve once (remembered consent from then on).
  const { session, location } = await signInAndApprove(base, authorizePath, email);
  const basic = client.basic;
  const first = codeOf(location);
  const ctx = { base, admin, client, basic, verifier, session, authorizePath };
  // With the consent remembered, one GET mints one code (302 straight back to the client).
  ctx.mint = async (count) => {
    const codes = [];
    for (let i = 0; i < count; i++) {
      const r = expect(
        await request(base, "GET", authorizePath, { headers: { cookie: session } }),
        302,
        "authorize with remembered consent",
      );
      codes.push(codeOf(r.headers.location));
    }
    return codes;
  };
  ctx.exchange = (code, verifier = ctx.verifier) =>
    request(base, "POST", "/api/oauth/token", {
      headers: { ...FORM, authorization: basic },
      body: form([
        ["grant_type", "authorization_code"],
        ["code", code],
        ["redirect_uri", REDIRECT],
        ["code_verifier", verifier],
      ]),
    });
  expect(await ctx.exchange(first), 200, "first token exchange");
  return ctx;
}

const get = (base, path) => async () => expect(await request(base, "GET", path), 200, `GET ${path}`);

/**
 * Starts a server for `alg`, sets up a client, a user and a remembered consent, warms up every
 * measured path (so V8 has tiered up the wasm functions they use), and returns the batches to
 * run against it: key → {count, prepare, one}.
 */
async function prepareServer(alg, withUsers) {
  const server = await startServer(alg);
  const { url: base, adminToken } = server.info;
  const s = { alg, server, rows: {}, parts: {}, ops: {} };
  try {
    const ctx = await setup(base, adminToken, alg.toLowerCase());
    const jwks = get(base, "/.well-known/jwks.json");
    const meta = get(base, "/.well-known/oauth-authorization-server");
    let users = 0;
    const kdfUser = () => createUser(base, adminToken, `kdf-${users++}@example.com`);
    const wrong = b64url(randomBytes(32));
    for (let i = 0; i < WARMUP; i++) {
      await jwks();
      await meta();
    }
    for (const code of await ctx.mint(WARMUP)) expect(await ctx.exchange(code), 200, "token (warm-up)");
    for (const code of await ctx.mint(WARMUP / 3)) {
      expect(await ctx.exchange(code, wrong), 400, "token with a wrong code_verifier (warm-up)");
    }
    if (withUsers) for (let i = 0; i < 3; i++) await kdfUser();

    const tokenBatches = 5;
    const perBatch = Math.ceil(TOKENS / tokenBatches);
    let codes = [];
    let minted = 0;
    s.ops.jwks = { count: Math.ceil(N / BATCHES), one: jwks };
    s.ops.metadata = { count: Math.ceil(N / BATCHES), one: meta };
    // Fresh codes are minted before each batch (untimed); only the token POSTs count.
    s.ops.token = {
      count: perBatch,
      batches: tokenBatches,
      prepare: async () => {
        codes = await ctx.mint(perBatch);
        minted = performance.now();
      },
      one: async (i) => {
        const r = expect(await ctx.exchange(codes[i]), 200, "token");
        s.accessToken = JSON.parse(r.body).access_token;
        if (i === perBatch - 1 && performance.now() - minted > 55_000) {
          fail("a token batch took longer than the code lifetime (60 s)");
        }
      },
    };
    // The same request failing at PKCE: client authentication, code read and code write; no
    // signing, no grant or refresh-token writes.
    s.ops.tokenNoSign = {
      count: perBatch,
      batches: tokenBatches,
      prepare: async () => {
        codes = await ctx.mint(perBatch);
      },
      one: async (i) => expect(await ctx.exchange(codes[i], wrong), 400, "token with a wrong code_verifier"),
    };
    // Introspection (verifies the JWT signature with WebCrypto), when the endpoint exists; the
    // token is the last one the token batches issued, to this (confidential) client.
    const introspect = () =>
      request(base, "POST", "/api/oauth/introspect", {
        headers: { ...FORM, authorization: ctx.basic },
        body: form([["token", s.accessToken]]),
      });
    const active = (r) => r.status === 200 && /"active"\s*:\s*true/.test(r.body);
    s.ops.introspect = {
      count: Math.ceil(N / BATCHES),
      probe: async () => {
        const r = await introspect();
        if (r.status === 404) return "not available yet (POST /api/oauth/introspect answers 404): not measured";
        if (!active(r)) return `not measured: the probe answered ${r.status} ${r.body.slice(0, 200)}`;
        for (let i = 0; i < WARMUP; i++) await introspect();
        return null;
      },
      one: async () => {
        const r = await introspect();
        if (!active(r)) fail(`introspect: ${r.status} ${r.body.slice(0, 200)}`);
      },
    };
    // Verification alone: a token whose signature was altered is verified (and fails) and then
    // looked up as a refresh token; an opaque string skips the JWT path and is looked up the
    // same way. Same KV reads (client, refresh-token lookup), both answer {"active":false}, so
    // the difference is parsing and verifying the JWT. Small alternating batches, to cancel drift.
    const inactive = (token) => async () => {
      const r = await request(base, "POST", "/api/oauth/introspect", {
        headers: { ...FORM, authorization: ctx.basic },
        body: form([["token", token()]]),
      });
      if (r.status !== 200 || !/"active"\s*:\s*false/.test(r.body)) {
        fail(`introspect (expected inactive): ${r.status} ${r.body.slice(0, 200)}`);
      }
    };
    const opaque = b64url(randomBytes(32));
    let tampered;
    const badSig = () => {
      if (!tampered) {
        const [h, p, sig] = s.accessToken.split(".");
        const raw = Buffer.from(sig, "base64url");
        raw[raw.length >> 1] ^= 0x01;
        tampered = `${h}.${p}.${b64url(raw)}`;
      }
      return tampered;
    };
    const verifyBatches = 10;
    s.ops.introspectOpaque = {
      count: Math.ceil(N / verifyBatches),
      batches: verifyBatches,
      requires: "introspect",
      one: inactive(() => opaque),
    };
    s.ops.introspectBadSig = {
      count: Math.ceil(N / verifyBatches),
      batches: verifyBatches,
      requires: "introspect",
      one: inactive(badSig),
    };
    if (withUsers) s.ops.users = { count: USERS, batches: 1, one: kdfUser };
  } catch (e) {
    await server.stop();
    throw e;
  }
  return s;
}

/**
 * Runs every batch, interleaving the servers (batch 1 of each alg, then batch 2 of each, …) so
 * that a change of load on the machine during the run affects every alg alike.
 */
async function benchServers(servers) {
  // Keys in one group have their batches interleaved (a, b, a, b, … for each server in turn).
  const groups = [
    ["jwks", "metadata"],
    ["token", "tokenNoSign"],
    ["introspect"],
    ["introspectOpaque", "introspectBadSig"],
    ["users"],
  ];
  for (const group of groups) {
    const jobs = []; // [server, key]
    for (const s of servers) {
      for (const key of group) {
        const op = s.ops[key];
        if (!op) continue;
        if (op.requires && !s.rows[op.requires]) continue;
        const skip = op.probe ? await op.probe() : null;
        if (skip) s.introspect = skip;
        else jobs.push([s, key]);
      }
    }
    const batchesOf = ([s, key]) => s.ops[key].batches || BATCHES;
    const most = Math.max(0, ...jobs.map(batchesOf));
    for (let b = 0; b < most; b++) {
      for (const job of jobs) {
        const [s, key] = job;
        if (b < batchesOf(job)) (s.parts[key] ||= []).push(await runBatch(s.server.pid, s.ops[key]));
      }
    }
    for (const [s, key] of jobs) s.rows[key] = combine(s.parts[key]);
  }
}

/**
 * The same runtime without the Rust Worker: a JS Worker (scripts/bench-worker.mjs) doing
 * `ops` operations per request; CPU per operation = (CPU of such requests - CPU of empty
 * requests) / ops. Measures WebCrypto sign/verify per alg, PBKDF2, and the emulated KV.
 */
/** `verifyOnly`: just ES256 verify (the example API's bench, for comparison under the same load). */
async function benchPrimitives({ verifyOnly = false } = {}) {
  const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");
  // Miniflare 5 takes a new option shape; it converts the documented v4 shape (as serve-test).
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      modules: true,
      modulesRoot: root,
      scriptPath: join(root, "scripts/bench-worker.mjs"),
      compatibilityDate: "2026-11-01",
      kvNamespaces: ["KV"],
    }),
  );
  const results = {};
  try {
    const base = (await mf.ready).toString();
    const pid = await findWorkerd(process.pid);
    const call = (q) => async () => expect(await request(base, "GET", `/?${q}`), 200, `bench worker ${q}`);
    const perOp = async (name, query, ops, reps = 3) => {
      await call(`${query}&n=${Math.min(ops, 20)}`)(); // key generation and warm-up
      for (let i = 0; i < WARMUP; i++) await call("op=sign&alg=ES256&n=0")();
    const empty = await measure(pid, { reps: 1, count: 10, one: call(`${query}&n=0`) });
      const full = await measure(pid, { reps, count: 1, one: call(`${query}&n=${ops}`) });
      results[name] = (full.sched - empty.sched) / ops;
    };
    for (let i = 0; i < WARMUP; i++) await call("op=sign&alg=ES256&n=0")();
    const empty = await measure(pid, { reps: BATCHES, count: Math.ceil(N / BATCHES), one: call("op=sign&alg=ES256&n=0") });
    results["empty request (JS Worker)"] = empty.sched;
    if (verifyOnly) {
      await perOp("ES256 verify", "op=verify&alg=ES256", CRYPTO_OPS);
      return results;
    }
    for (const alg of ALGS) {
      await perOp(`${alg} sign`, `op=sign&alg=${alg}`, CRYPTO_OPS);
      await perOp(`${alg} verify`, `op=verify&alg=${alg}`, CRYPTO_OPS);
    }
    await perOp("PBKDF2-SHA256 100k", "op=pbkdf2", 5);
    await perOp("KV put (emulated)", "op=kvput", 100);
    await perOp("KV get (emulated)", "op=kvget", 100);
  } finally {
    await mf.dispose();
  }
  return results;
}

/** Sizes of a Worker's build/ (in `dir`, with its wrangler.toml) and its wrangler dry-run upload. */
function bundleSize(dir = root) {
  const files = ["build/index_bg.wasm", "build/index.js"].map((f) => {
    const data = readFileSync(join(dir, f));
    return { file: f, raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
  });
  // wrangler bundles exactly what `wrangler deploy` would upload, offline. A copy of the config
  // without its [build] command, so the dry run does not rebuild.
  const tmp = mkdtempSync(join(TMP_BASE || "/tmp", "edge-oauth-bench-"));
  let upload = null;
  try {
    const config = readFileSync(join(dir, "wrangler.toml"), "utf8")
      .replace(/^\[build\]\s*\ncommand\s*=.*\n/m, "")
      .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(join(dir, "build/index.js"))}`);
    writeFileSync(join(tmp, "wrangler.toml"), config);
    const r = spawnSync(
      "wrangler",
      ["deploy", "--dry-run", "--config", join(tmp, "wrangler.toml"), "--outdir", join(tmp, "dist")],
      { cwd: tmp, encoding: "utf8", timeout: 120_000, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
    );
    const m = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(`${r.stdout}\n${r.stderr}`);
    if (m) upload = { raw: Number(m[1]), gzip: Number(m[2]) };
    else upload = { error: `wrangler dry run printed no upload size (exit ${r.status}): ${(r.stderr || r.stdout || "").slice(-400)}` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { files, upload };
}

// ---------------------------------------------------------------- report

const NAMES = {
  jwks: "GET /.well-known/jwks.json (baseline)",
  metadata: "GET /.well-known/oauth-authorization-server",
  token: "POST /api/oauth/token (code exchange)",
  tokenNoSign: "POST /api/oauth/token, wrong code_verifier",
  introspect: "POST /api/oauth/introspect (active token)",
  introspectOpaque: "POST /api/oauth/introspect, unknown opaque token",
  introspectBadSig: "POST /api/oauth/introspect, altered signature",
  users: "POST /api/admin/users (PBKDF2 100k)",
};

async function main() {
  const t0 = performance.now();
  const cpus = readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length;
  const model = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) || [])[1] || "?";
  log(`edge-oauth bench, ${new Date().toISOString()}: ${cpus} CPUs (${model}), node ${process.version}`);
  log(`Worker: build/index_bg.wasm of ${statSync(join(root, "build/index_bg.wasm")).mtime.toISOString()}\n`);
  const gallery = async () => {
    const { benchGallery } = await import("./bench-gallery.mjs");
    const helpers = { root, request, startServer, runBatch, expect, bundleSize, benchPrimitives, table, us, log, fail };
    return benchGallery(helpers, { n: Math.max(N, 1500) });
  };
  if (GALLERY_ONLY) {
    await gallery();
    log(`bench finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return;
  }

  log("== 1. Bundle size (target: <= 250 kB gzip) ==");
  const size = bundleSize();
  table(
    ["file", "raw bytes", "gzip -9 bytes"],
    [
      ...size.files.map((f) => [f.file, f.raw, f.gzip]),
      ["total", size.files.reduce((a, f) => a + f.raw, 0), size.files.reduce((a, f) => a + f.gzip, 0)],
    ],
  );
  if (size.upload.error) log(`wrangler deploy --dry-run: ${size.upload.error}`);
  else {
    log(
      `wrangler deploy --dry-run: Total Upload ${size.upload.raw} KiB / gzip ${size.upload.gzip} KiB` +
        ` (${kB(size.upload.raw)} kB / ${kB(size.upload.gzip)} kB)`,
    );
  }
  log("");

  log("== 2. CPU per request inside workerd ==");
  log(
    `Sequential requests in ${BATCHES} batches per figure (${Math.ceil(N / BATCHES)} requests per batch for the GETs ` +
      `and introspection, 5 of ${Math.ceil(TOKENS / 5)} for the token endpoint, 10 of ${Math.ceil(N / 10)} ` +
      `for the verification pair; 1 batch of ${USERS} account ` +
      "creations), batches of the algs interleaved, each started once workerd is idle.\n" +
      "CPU = delta of the workerd process's utime+stime " +
      `(/proc/PID/stat, ${1e6 / CLK_TCK} us ticks) / requests; sched = the same from its threads' ` +
      "schedstat (ns resolution); min-max = lowest and highest batch mean (noise); " +
      "- baseline = sched minus the jwks request of the same server; latency = client wall clock.",
  );
  log(`load average (1 min) before the run: ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}`);
  const results = [];
  try {
    for (const [i, alg] of ALGS.entries()) results.push(await prepareServer(alg, i === 0));
    log(`servers ready (${ALGS.join(", ")}), measuring…`);
    await benchServers(results);
  } finally {
    for (const s of results) await s.server.stop();
  }
  log(`load average (1 min) after the run: ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}\n`);
  const rows = [];
  for (const r of results) {
    const base = r.rows.jwks.sched;
    for (const [k, v] of Object.entries(r.rows)) {
      rows.push([
        `${r.alg}  ${NAMES[k]}`,
        v.n,
        us(v.stat),
        us(v.sched),
        v.batches > 1 ? `${us(v.min)}-${us(v.max)}` : "-",
        k === "jwks" ? "-" : us(v.sched - base),
        ms(v.p50),
        ms(v.p99),
      ]);
    }
  }
  table(["alg  endpoint", "n", "CPU us", "sched us", "min-max us", "- baseline", "p50 ms", "p99 ms"], rows);
  const idle = Math.max(...results.flatMap((r) => Object.values(r.rows).map((v) => v.idle)));
  log(`(highest residual idle CPU of workerd when a batch started: ${Math.round(idle)} us/s)`);
  for (const r of results) if (r.introspect) log(`${r.alg}: introspection ${r.introspect}`);
  log("");

  log(`== 3. Primitives inside workerd, without the Rust Worker (JS Worker, per operation) ==`);
  const prim = await benchPrimitives();
  table(["operation", "CPU us/op"], Object.entries(prim).map(([k, v]) => [k, us(v)]));
  log("");

  log("== Summary (us of workerd CPU per request or operation; sched figures) ==");
  log("Local KV is emulated by Miniflare inside the same workerd process, and its CPU (section 3)");
  log("is part of every endpoint figure; on Cloudflare, KV calls are I/O outside the isolate.");
  const d = (a, b) => (a && b ? us(a.sched - b.sched) : "n/a");
  // Paired difference of interleaved batches (batch i of a minus batch i of b): mean ± standard
  // error, so that a difference smaller than the noise shows as such.
  const paired = (r, ka, kb, rb = r) => {
    const a = r.parts[ka];
    const b = rb.parts[kb];
    if (!a || !b) return "n/a";
    const k = Math.min(a.length, b.length);
    const diffs = [...Array(k).keys()].map((i) => a[i].sched / a[i].count - b[i].sched / b[i].count);
    const mean = diffs.reduce((x, y) => x + y, 0) / k;
    const sd = Math.sqrt(diffs.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, k - 1));
    return `${us(mean)} ± ${us(sd / Math.sqrt(k))}`;
  };
  const sum = results.map((r) => [
    r.alg,
    d(r.rows.token, r.rows.jwks),
    paired(r, "token", "tokenNoSign"),
    us(prim[`${r.alg} sign`]),
    d(r.rows.introspect, r.rows.jwks),
    paired(r, "introspectBadSig", "introspectOpaque"),
    us(prim[`${r.alg} verify`]),
  ]);
  table(
    [
      "alg",
      "token - baseline",
      "token - failing token",
      "WebCrypto sign",
      "introspect - baseline",
      "altered sig - opaque",
      "WebCrypto verify",
    ],
    sum,
  );
  log("  (a ± b: mean ± standard error of the differences between interleaved batches)");
  log("  token - baseline: signing + the code path's KV reads and writes (code, client, consent,");
  log("    the user's grants for the per-client cap, grant + 2 indexes, refresh token) + logic");
  log("  token - failing token: the part after the PKCE check: signing, consent check, grant cap,");
  log("    grant and refresh-token writes, response");
  log("  introspect - baseline: verification + 3 KV reads (client, revoked jti, grant)");
  log("  altered sig - opaque: JWT parsing + verification (same KV reads on both sides)");
  const es = results.find((r) => r.alg === "ES256");
  if (es) {
    for (const r of results.filter((x) => x !== es)) {
      log(`token CPU ${r.alg} - ES256 (paired batches): ${paired(r, "token", "token", es)} us`);
    }
  }
  const first = results[0];
  if (first.rows.users) {
    log(
      `PBKDF2 100k: account creation - baseline ${us(first.rows.users.sched - first.rows.jwks.sched)} us ` +
        `(with 1 KV read and 2 writes); PBKDF2 alone ${us(prim["PBKDF2-SHA256 100k"])} us`,
    );
  }
  log("\nTargets:");
  if (!size.upload.error) {
    const g = size.upload.gzip * 1.024;
    log(`  bundle <= 250 kB gzip: ${g.toFixed(1)} kB (wrangler, gzip) -> ${g <= 250 ? "met" : "NOT met"}`);
  }
  const sign = prim["ES256 sign"];
  const verify = prim["ES256 verify"];
  if (sign !== undefined) {
    log(`  ES256 sign <= 100 us: ${us(sign)} us (WebCrypto in workerd) -> ${sign <= 100 ? "met" : "NOT met"}`);
  }
  if (verify !== undefined) {
    const ep = es?.rows.introspectBadSig && es.rows.introspectOpaque
      ? `; at the endpoint (altered sig - opaque) ${paired(es, "introspectBadSig", "introspectOpaque")} us`
      : "; introspection endpoint not measured";
    log(`  ES256 verify <= 150 us: ${us(verify)} us (WebCrypto in workerd) -> ${verify <= 150 ? "met" : "NOT met"}${ep}`);
  }
  log("");
  await gallery();
  log(`bench finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(`bench failed: ${e.stack || e}`);
  process.exit(1);
});
