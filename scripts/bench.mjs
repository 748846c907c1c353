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
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
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
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const REDIRECT = "http://127.0.0.1:53682/callback";
const PASSWORD = "a long enough password for the bench";
const TMP_BASE = existsSync("/dev/shm") ? "/dev/shm" : undefined; // tmpfs for anything written

const log = (...a) => console.log(...a);
const fail = (msg) => {
  throw new Error(msg);
};

// ---------------------------------------------------------------- process CPU from /proc

/** utime+stime of a whole process (all threads, including exited ones), in microseconds. */
function cpuStatUs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK; // fields 14 and 15
}

/** Sum of the live threads' on-CPU time (schedstat, nanosecond resolution), in microseconds. */
function cpuSchedUs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread exited between readdir and read
    }
  }
  return ns / 1000;
}

function procTable() {
  const rows = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
      const ppid = Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
      rows.push({ pid: Number(d), ppid, comm });
    } catch {
      // process exited
    }
  }
  return rows;
}

/** The workerd process whose parent chain includes `ancestor`. */
async function findWorkerd(ancestor) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const rows = procTable();
    const parent = new Map(rows.map((r) => [r.pid, r.ppid]));
    const found = rows.filter((r) => {
      if (r.comm !== "workerd") return false;
      for (let p = r.ppid, hops = 0; p > 1 && hops < 20; p = parent.get(p), hops++) {
        if (p === ancestor) return true;
      }
      return false;
    });
    if (found.length === 1) return found[0].pid;
    if (found.length > 1) fail(`several workerd processes under pid ${ancestor}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`no workerd process under pid ${ancestor}`);
}

/**
 * Waits until workerd is idle: after start-up and after each warm-up V8 keeps compiling
 * (wasm tier-up) and collecting garbage on background threads for a while, which would
 * otherwise be charged to the next batch. Returns the residual idle CPU in us per second.
 */
async function settle(pid, { maxMs = 15_000, stepMs = 250, idleUsPerStep = 750 } = {}) {
  const end = performance.now() + maxMs;
  let rate = Infinity;
  while (performance.now() < end) {
    const c0 = cpuSchedUs(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, stepMs));
    const used = cpuSchedUs(pid) - c0;
    rate = (used * 1000) / (performance.now() - t0);
    if (used < idleUsPerStep) break;
  }
  return rate;
}

// ---------------------------------------------------------------- HTTP client (keep-alive)

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(base, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request(
      url,
      { method, agent, headers: body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const form = (fields) =>
  fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const b64url = (buf) => Buffer.from(buf).toString("base64url");

function expect(r, status, what) {
  if (r.status !== status) fail(`${what}: expected ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
  return r;
}

function hidden(html, name) {
  const marker = `name="${name}" value="`;
  const start = html.indexOf(marker);
  if (start < 0) fail(`no hidden input ${name} in page`);
  const s = start + marker.length;
  return html
    .slice(s, html.indexOf('"', s))
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

const cookiePair = (r, prefix) =>
  (r.headers["set-cookie"] || []).map((c) => c.split(";")[0]).find((c) => c.startsWith(prefix));

// ---------------------------------------------------------------- statistics and batches

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * One batch: `prepare()` (untimed, e.g. minting codes), wait until workerd is idle, then
 * `count` sequential calls of `one(i)`, each exactly one request to the Worker. Returns the
 * workerd CPU it took (stat and schedstat, us) and the client-side latencies (ms).
 */
async function runBatch(pid, { count, prepare = async () => {}, one }) {
  await prepare();
  const idle = await settle(pid);
  const stat0 = cpuStatUs(pid);
  const sched0 = cpuSchedUs(pid);
  const lats = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await one(i);
    lats.push(performance.now() - t);
  }
  return { count, stat: cpuStatUs(pid) - stat0, sched: cpuSchedUs(pid) - sched0, lats, idle };
}

/** Per-request figures over batches: mean, lowest and highest batch mean (noise), p50/p99. */
function combine(parts) {
  const n = parts.reduce((a, p) => a + p.count, 0);
  const lat = parts.flatMap((p) => p.lats).sort((a, b) => a - b);
  const means = parts.map((p) => p.sched / p.count);
  return {
    n,
    batches: parts.length,
    stat: parts.reduce((a, p) => a + p.stat, 0) / n,
    sched: parts.reduce((a, p) => a + p.sched, 0) / n,
    min: Math.min(...means),
    max: Math.max(...means),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    idle: Math.max(...parts.map((p) => p.idle)),
  };
}

async function measure(pid, { reps = 3, ...spec }) {
  const parts = [];
  for (let rep = 0; rep < reps; rep++) parts.push(await runBatch(pid, spec));
  return combine(parts);
}

// ---------------------------------------------------------------- servers

/** Starts `node scripts/serve-test.mjs` and returns {info, pid (workerd), stop()}. */
async function startServer(alg, extraArgs = []) {
  const child = spawn(process.execPath, [join(root, "scripts/serve-test.mjs"), "--alg", alg, ...extraArgs], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const rl = createInterface({ input: child.stdout });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("serve-test did not start in 60 s")), 60_000);
    rl.once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once("exit", (code) => reject(new Error(`serve-test exited (${code})`)));
  });
  const info = JSON.parse(line);
  const pid = await findWorkerd(child.pid);
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      const timer = setTimeout(() => {
        child.kill("SIGKILL"); // only the process we started, by its handle
        resolve();
      }, 10_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin.end(); // serve-test exits when its stdin closes (and disposes workerd)
    });
  return { info, pid, nodePid: child.pid, stop };
}

// ---------------------------------------------------------------- the flows

async function setup(base, admin, tag) {
  const auth = { authorization: `Bearer ${admin}`, "content-type": "application/json" };
  const client = JSON.parse(
    expect(
      await request(base, "POST", "/api/admin/clients", {
        headers: auth,
        body: JSON.stringify({
          client_name: "Bench Client",
          redirect_uris: [REDIRECT],
          scope: "profile:read",
          token_endpoint_auth_method: "client_secret_basic",
        }),
      }),
      201,
      "register client",
    ).body,
  );
  const email = `bench-${tag}@example.com`;
  expect(
    await request(base, "POST", "/api/admin/users", {
      headers: auth,
      body: JSON.stringify({ email, password: PASSWORD }),
    }),
    201,
    "create user",
  );
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
  // Login page → sign in → consent page → approve (remembered consent from then on).
  const loginPage = expect(await request(base, "GET", authorizePath), 200, "login page");
  const csrfCookie = cookiePair(loginPage, "edge_oauth_login_csrf=") || fail("no login CSRF cookie");
  const signedIn = expect(
    await request(base, "POST", "/api/oauth/login", {
      headers: { ...FORM, cookie: csrfCookie },
      body: form([
        ["email", email],
        ["password", PASSWORD],
        ["csrf_token", hidden(loginPage.body, "csrf_token")],
        ["return_to", hidden(loginPage.body, "return_to")],
      ]),
    }),
    303,
    "login",
  );
  const session = cookiePair(signedIn, "edge_oauth_session=") || fail("no session cookie");
  const consent = expect(
    await request(base, "GET", signedIn.headers.location, { headers: { cookie: session } }),
    200,
    "consent page",
  );
  const approved = expect(
    await request(base, "POST", "/api/oauth/authorize", {
      headers: { ...FORM, cookie: session },
      body: form([
        ["csrf_token", hidden(consent.body, "csrf_token")],
        ["request_id", hidden(consent.body, "request_id")],
        ["decision", "approve"],
        ["scope", "profile:read"],
      ]),
    }),
    303,
    "approve",
  );
  const basic =
    "Basic " +
    Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString(
      "base64",
    );
  const codeOf = (location) => new URL(location).searchParams.get("code") || fail(`no code in ${location}`);
  const first = codeOf(approved.headers.location);
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
    const auth = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    let users = 0;
    const createUser = async () =>
      expect(
        await request(base, "POST", "/api/admin/users", {
          headers: auth,
          body: JSON.stringify({ email: `kdf-${users++}@example.com`, password: PASSWORD }),
        }),
        201,
        "create user",
      );
    const wrong = b64url(randomBytes(32));
    for (let i = 0; i < WARMUP; i++) {
      await jwks();
      await meta();
    }
    for (const code of await ctx.mint(WARMUP)) expect(await ctx.exchange(code), 200, "token (warm-up)");
    for (const code of await ctx.mint(WARMUP / 3)) {
      expect(await ctx.exchange(code, wrong), 400, "token with a wrong code_verifier (warm-up)");
    }
    if (withUsers) for (let i = 0; i < 3; i++) await createUser();

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
    if (withUsers) s.ops.users = { count: USERS, batches: 1, one: createUser };
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

const us = (v) => (v === undefined || Number.isNaN(v) ? "-" : Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v).toString());
const ms = (v) => v.toFixed(2);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
const kB = (kib) => (kib * 1.024).toFixed(1); // KiB → kB (1000 bytes)

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? pad(c, widths[i]) : lpad(c, widths[i]))).join("  ");
  log(line(header));
  log(widths.map((w) => "-".repeat(w)).join("  "));
  rows.forEach((r) => log(line(r)));
}

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
