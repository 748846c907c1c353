// Helpers shared by the benchmarks (scripts/bench.mjs, scripts/bench-flow.mjs,
// scripts/bench-gallery.mjs, scripts/profile-flow.mjs): workerd CPU from /proc, a keep-alive HTTP client, bounded batches,
// the test server (scripts/serve-test.mjs), the sign-in and consent forms, and table output.
// Only 127.0.0.1; the processes started here are stopped through their handles.
import { spawn, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
export const REDIRECT = "http://127.0.0.1:53682/callback";
export const PASSWORD = "a long enough password for the bench";

export const log = (...a) => console.log(...a);
export const fail = (msg) => {
  throw new Error(msg);
};

// ---------------------------------------------------------------- process CPU from /proc

/** utime+stime of a whole process (all threads, including exited ones), in microseconds. */
export function cpuStatUs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK; // fields 14 and 15
}

/** Sum of the live threads' on-CPU time (schedstat, nanosecond resolution), in microseconds. */
export function cpuSchedUs(pid) {
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

export function procTable() {
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
export async function findWorkerd(ancestor) {
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
export async function settle(pid, { maxMs = 15_000, stepMs = 250, idleUsPerStep = 750 } = {}) {
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

export const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function request(base, method, path, { headers = {}, body } = {}) {
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

export const form = (fields) =>
  fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
export const FORM = { "content-type": "application/x-www-form-urlencoded" };
export const b64url = (buf) => Buffer.from(buf).toString("base64url");

export function expect(r, status, what) {
  if (r.status !== status) fail(`${what}: expected ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
  return r;
}

export function hidden(html, name) {
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

export const cookiePair = (r, prefix) =>
  (r.headers["set-cookie"] || []).map((c) => c.split(";")[0]).find((c) => c.startsWith(prefix));

// ---------------------------------------------------------------- statistics and batches

export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * One batch: `prepare()` (untimed, e.g. minting codes), wait until workerd is idle, then
 * `count` sequential calls of `one(i)`, each exactly one request to the Worker. Returns the
 * workerd CPU it took (stat and schedstat, us) and the client-side latencies (ms).
 */
export async function runBatch(pid, { count, prepare = async () => {}, one }) {
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
export function combine(parts) {
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

export async function measure(pid, { reps = 3, ...spec }) {
  const parts = [];
  for (let rep = 0; rep < reps; rep++) parts.push(await runBatch(pid, spec));
  return combine(parts);
}

// ---------------------------------------------------------------- servers

/**
 * The environment of a measured server: Miniflare keeps its emulated KV and Durable Object
 * storage (SQLite files, blobs) under the temporary directory, which goes on tmpfs
 * (/dev/shm) where there is one, as ../shared/peer-bench does with the peers' KV. On a disk,
 * every SQLite commit costs write and fsync system calls that count as the server's CPU.
 */
export function serverEnv(env = process.env) {
  return existsSync("/dev/shm") ? { ...env, TMPDIR: "/dev/shm" } : env;
}

/** Starts `node scripts/serve-test.mjs` and returns {info, pid (workerd), stop()}. */
export async function startServer(alg, extraArgs = []) {
  const child = spawn(process.execPath, [join(root, "scripts/serve-test.mjs"), "--alg", alg, ...extraArgs], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
    env: serverEnv(),
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
export const us = (v) => (v === undefined || Number.isNaN(v) ? "-" : Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v).toString());
export const ms = (v) => v.toFixed(2);
export const pad = (s, n) => String(s).padEnd(n);
export const lpad = (s, n) => String(s).padStart(n);
export const kB = (kib) => (kib * 1.024).toFixed(1); // KiB → kB (1000 bytes)

export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? pad(c, widths[i]) : lpad(c, widths[i]))).join("  ");
  log(line(header));
  log(widths.map((w) => "-".repeat(w)).join("  "));
  rows.forEach((r) => log(line(r)));
}

/** Registers a confidential client (admin API) for REDIRECT; returns it with its Basic header. */
export async function registerClient(base, admin, scope = "profile:read") {
  const client = JSON.parse(
    expect(
      await request(base, "POST", "/api/admin/clients", {
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({
          client_name: "Bench Client",
          redirect_uris: [REDIRECT],
          scope,
          token_endpoint_auth_method: "client_secret_basic",
        }),
      }),
      201,
      "register client",
    ).body,
  );
  const enc = encodeURIComponent;
  client.basic = "Basic " + Buffer.from(`${enc(client.client_id)}:${enc(client.client_secret)}`).toString("base64");
  return client;
}

/** Creates an account through the admin API (one PBKDF2 hash). */
export async function createUser(base, admin, email) {
  return expect(
    await request(base, "POST", "/api/admin/users", {
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ email, password: PASSWORD }),
    }),
    201,
    "create user",
  );
}

/**
 * Login page → sign in → consent page → approve, for one authorize request. Returns the
 * session cookie pair and the approval's redirect (to the client, with a code); from then on
 * the consent is remembered and the same authorize request answers 302 with a code.
 */
export async function signInAndApprove(base, authorizePath, email, scope = "profile:read") {
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
        // One field per checked scope, as the page's checkboxes send them.
        ...scope.split(" ").map((name) => ["scope", name]),
      ]),
    }),
    303,
    "approve",
  );
  return { session, location: approved.headers.location };
}

export const codeOf = (location) => new URL(location).searchParams.get("code") || fail(`no code in ${location}`);

/**
 * A returning user's flow against the test server `info` (`url`, `adminToken`, `galleryUrl`):
 * registers a confidential client, creates `users` accounts that sign in and approve it once,
 * and returns their session cookies, the steps (each takes the flow state, checks the
 * response and returns it) and `newFlows(n)` (fresh PKCE pairs, users round robin).
 */
export async function prepareFlows({ url: base, adminToken, galleryUrl }, { users, scope, emailPrefix, resource }) {
  const client = await registerClient(base, adminToken, scope);
  const pkce = () => {
    const verifier = b64url(randomBytes(32));
    return { verifier, challenge: b64url(createHash("sha256").update(verifier).digest()) };
  };
  const authorizePath = (challenge) =>
    "/api/oauth/authorize?" +
    form([
      ["response_type", "code"], ["client_id", client.client_id], ["redirect_uri", REDIRECT],
      ["scope", scope], ["state", b64url(randomBytes(12))],
      ["code_challenge", challenge], ["code_challenge_method", "S256"],
      // RFC 8707: the grant and its tokens are for this resource (its `aud`).
      ...(resource ? [["resource", resource]] : []),
    ]);
  const sessions = [];
  for (let i = 0; i < users; i++) {
    const email = `${emailPrefix}-${i}@example.com`;
    await createUser(base, adminToken, email);
    sessions.push((await signInAndApprove(base, authorizePath(pkce().challenge), email, scope)).session);
  }
  const tokenPost = (fields) =>
    request(base, "POST", "/api/oauth/token", {
      headers: { ...FORM, authorization: client.basic },
      body: form(fields),
    });
  // Each step takes the flow state and returns the response (checked).
  const steps = {
    authorize: async (f) => {
      const r = expect(
        await request(base, "GET", authorizePath(f.challenge), { headers: { cookie: f.session } }),
        302,
        "authorize (remembered consent)",
      );
      f.code = codeOf(r.headers.location);
      return r;
    },
    token: async (f) => {
      const r = expect(
        await tokenPost([
          ["grant_type", "authorization_code"], ["code", f.code], ["redirect_uri", REDIRECT],
          ["code_verifier", f.verifier],
        ]),
        200,
        "token",
      );
      ({ access_token: f.access, refresh_token: f.refresh } = JSON.parse(r.body));
      if (!f.refresh) fail("token response without refresh_token");
      return r;
    },
    introspect: async (f) => {
      const r = await request(base, "POST", "/api/oauth/introspect", {
        headers: { ...FORM, authorization: client.basic },
        body: form([["token", f.access]]),
      });
      if (r.status !== 200 || !/"active"\s*:\s*true/.test(r.body)) {
        fail(`introspect: ${r.status} ${r.body.slice(0, 200)}`);
      }
      return r;
    },
    api: async (f) =>
      expect(
        await request(galleryUrl, "GET", "/api/v1/me", { headers: { authorization: `Bearer ${f.access}` } }),
        200,
        "GET /api/v1/me (example API)",
      ),
    refresh: async (f) => {
      const r = expect(
        await tokenPost([["grant_type", "refresh_token"], ["refresh_token", f.refresh]]),
        200,
        "refresh",
      );
      f.refresh = JSON.parse(r.body).refresh_token;
      return r;
    },
  };
  let seq = 0;
  const newFlows = (n) =>
    Array.from({ length: n }, () => ({ ...pkce(), session: sessions[seq++ % sessions.length] }));
  return { client, sessions, steps, newFlows };
}
