// Flow cost per step and per state backend (`make bench` → scripts/bench.sh → this script).
//   node scripts/bench-flow.mjs [--flows 150] [--batch 50] [--users 100] [--backends durable,kv]
//                               [--no-peer] [--peer-n 400] [--peer-c 8] [--peer-reps 3]
//                               [--scope "..."] [--resource gallery] [--label TEXT]
// --scope and --resource vary the flow (make bench runs it again with `openid` in the scope,
// and with RFC 8707 `resource` naming the example API: `gallery` stands for its origin), to
// compare those flows' cost with the plain one; --label names the variant in the output.
// 1. Per backend: `serve-test.mjs --gallery --var STATE_BACKEND=<b> --var COST_HEADER=1`, a
//    confidential client, --users accounts, each signed in and the client approved once, so that
//    a returning user's authorize answers 302 with a code (remembered consent).
// 2. A returning user's flow, step by step: authorize (GET, 302) → token (authorization_code,
//    PKCE S256) → introspect (client Basic auth) → refresh; plus the example API's
//    `GET /api/v1/me` with the access token (not part of the flow total). Each step runs as
//    bounded sequential batches (--batch requests, started once workerd is idle); CPU per
//    request = workerd CPU delta (schedstat) / requests; storage operations = the sum of the
//    Worker's `x-storage-ops` response header (KV reads, writes, lists, Durable Object calls).
//    The first request of each fresh server is reported apart (cold isolate).
// 3. On the default backend, when ../shared/peer-bench exists: its run.sh with a driver config
//    for this server (the signed-in users' cookies, redirect approval) beside the two peers.
//    If it fails, the reason is printed and the bench goes on.
// Only 127.0.0.1; the servers started here are stopped through their handles.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  root, REDIRECT, log, fail, settle, cpuSchedUs, request, expect, runBatch, pct, startServer, us, table,
  prepareFlows,
} from "./bench-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const FLOWS = Number(opt("--flows", "150")); // measured flows per backend
const BATCH = Number(opt("--batch", "50")); // requests per timed batch (codes live 60 s)
const USERS = Number(opt("--users", "100")); // signed-in users, used round robin
const BACKENDS = opt("--backends", "durable,kv").split(",");
const PEER = !args.includes("--no-peer");
const PEER_N = opt("--peer-n", "400");
const PEER_C = opt("--peer-c", "8");
const PEER_REPS = opt("--peer-reps", "3");
const PEER_DIR = join(root, "../shared/peer-bench");
const WARMUP_FLOWS = 20;
const SCOPE = opt("--scope", "profile:read");
const RESOURCE = opt("--resource", "");
const LABEL = opt("--label", "");
const STEPS = ["authorize", "token", "introspect", "api", "refresh"];
const IN_FLOW = ["authorize", "token", "introspect", "refresh"]; // the per-flow total
const OPS = ["kv_reads", "kv_writes", "kv_lists", "object_calls"];

/** `x-storage-ops: kv_reads=N; kv_writes=N; kv_lists=N; object_calls=N` → counts. */
function storageOps(r) {
  const h = r.headers["x-storage-ops"];
  if (!h) return null;
  const out = {};
  for (const part of h.split(";")) {
    const [k, v] = part.trim().split("=");
    if (OPS.includes(k)) out[k] = Number(v);
  }
  return out;
}

/** One signed-in server for `backend`: client, users, sessions; the step requests. */
async function prepare(backend) {
  const server = await startServer("ES256", [
    "--gallery", "--var", `STATE_BACKEND=${backend}`, "--var", "COST_HEADER=1",
  ]);
  try {
    const { url: base, galleryUrl } = server.info;
    // Cold isolate: CPU of the first request (after start-up has gone quiet), then the
    // background compilation it triggers until workerd is idle again.
    await settle(server.pid);
    const c0 = cpuSchedUs(server.pid);
    expect(await request(base, "GET", "/.well-known/jwks.json"), 200, "first request");
    const first = cpuSchedUs(server.pid) - c0;
    await settle(server.pid);
    const cold = { first, untilIdle: cpuSchedUs(server.pid) - c0 };

    const { client, sessions, steps, newFlows } = await prepareFlows(server.info, {
      users: USERS,
      scope: SCOPE,
      emailPrefix: `flow-${backend}`,
      resource: RESOURCE === "gallery" ? galleryUrl : RESOURCE || undefined,
    });
    return { backend, server, base, galleryUrl, client, sessions, steps, newFlows, cold };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

/**
 * Warm-up flows (at least one per user, so that every measured flow is a returning user's:
 * signed in, consent remembered, a live grant of the client), then per round one batch per
 * step over the same flows; returns per-step rows.
 */
async function measureSteps(s) {
  const warmup = Math.max(WARMUP_FLOWS, s.sessions.length);
  for (const f of s.newFlows(warmup)) for (const step of STEPS) await s.steps[step](f);
  const acc = Object.fromEntries(STEPS.map((k) => [k, { n: 0, sched: 0, means: [], lats: [], ops: {}, metered: 0, seen: new Set() }]));
  for (let done = 0; done < FLOWS; done += BATCH) {
    const flows = s.newFlows(Math.min(BATCH, FLOWS - done));
    for (const step of STEPS) {
      const a = acc[step];
      const part = await runBatch(s.server.pid, {
        count: flows.length,
        one: async (i) => {
          const r = await s.steps[step](flows[i]);
          const ops = storageOps(r);
          if (!ops) return;
          a.seen.add(r.headers["x-storage-ops"]);
          a.metered++;
          for (const k of OPS) a.ops[k] = (a.ops[k] || 0) + (ops[k] || 0);
        },
      });
      a.n += part.count;
      a.sched += part.sched;
      a.means.push(part.sched / part.count);
      a.lats.push(...part.lats);
    }
  }
  const rows = {};
  for (const [step, a] of Object.entries(acc)) {
    a.lats.sort((x, y) => x - y);
    rows[step] = {
      n: a.n,
      cpuMs: a.sched / a.n / 1000,
      min: Math.min(...a.means) / 1000,
      max: Math.max(...a.means) / 1000,
      p50: pct(a.lats, 50),
      ops: a.metered ? Object.fromEntries(OPS.map((k) => [k, (a.ops[k] || 0) / a.metered])) : null,
      varied: a.seen.size > 1 ? [...a.seen] : null, // distinct x-storage-ops values, when not one
    };
  }
  return rows;
}

const f2 = (v) => (v === undefined ? "-" : v.toFixed(2));
const opsCell = (v) => (v === undefined ? "-" : Number.isInteger(v) ? String(v) : v.toFixed(2));

function printTable(results) {
  const rows = [];
  const names = { api: "api: example API /api/v1/me (*)" };
  for (const { backend, rows: r } of results) {
    for (const step of STEPS) {
      const x = r[step];
      rows.push([
        `${backend.padEnd(7)}  ${names[step] || step}`, x.n, f2(x.cpuMs), `${f2(x.min)}-${f2(x.max)}`, f2(x.p50),
        ...OPS.map((k) => opsCell(x.ops?.[k])),
      ]);
    }
    const total = (k) => IN_FLOW.reduce((acc, step) => acc + (r[step].ops?.[k] ?? 0), 0);
    rows.push([
      `${backend.padEnd(7)}  per flow (${IN_FLOW.join(" + ")})`, "",
      f2(IN_FLOW.reduce((acc, step) => acc + r[step].cpuMs, 0)), "", "",
      ...OPS.map((k) => opsCell(total(k))),
    ]);
  }
  table(
    ["backend  step", "n", "CPU ms/req", "batch min-max", "p50 ms", "KV reads", "KV writes", "KV lists", "object calls"],
    rows,
  );
  for (const { backend, rows: r } of results) {
    for (const step of STEPS) {
      if (step !== "api" && !r[step].ops) log(`${backend} ${step}: no x-storage-ops header (COST_HEADER=1 not honoured?)`);
      if (r[step].varied) log(`${backend} ${step}: the counts varied between requests: ${r[step].varied.join(" | ")}`);
    }
  }
  log("(*) the example API in the same workerd, verifying the token (its storage is not metered); not in the per-flow row");
}

/** Targets of the flow-cost issue, checked against the measured counts. */
function printTargets(results) {
  for (const { backend, rows: r } of results) {
    const writeClass = IN_FLOW.reduce((a, s) => a + (r[s].ops?.kv_writes ?? 0) + (r[s].ops?.kv_lists ?? 0), 0);
    if (backend === "kv") {
      log(`  kv: write-class KV operations (writes + lists) per flow: ${opsCell(writeClass)} (target <= 4)` +
        ` -> ${writeClass <= 4 ? "met" : "NOT met"}`);
    } else if (backend === "durable") {
      const most = Math.max(...IN_FLOW.map((s) => r[s].ops?.object_calls ?? 0));
      log(`  durable: object calls per request, most of any step: ${opsCell(most)} (target <= 1)` +
        ` -> ${most <= 1 ? "met" : "NOT met"}`);
      log(`  durable: write-class KV operations per flow: ${opsCell(writeClass)} (target <= 1)` +
        ` -> ${writeClass <= 1 ? "met" : "NOT met"}`);
    }
  }
}

/** ../shared/peer-bench/run.sh against this server (the default backend); never throws. */
async function runPeers(s) {
  if (!existsSync(join(PEER_DIR, "run.sh"))) {
    log(`peer comparison skipped: ${PEER_DIR} does not exist`);
    return;
  }
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : "/tmp", "edge-oauth-peer-"));
  try {
    const cfg = join(dir, "ours.json");
    writeFileSync(cfg, JSON.stringify({
      name: "edge-oauth",
      base_url: s.base,
      paths: {
        authorize: "/api/oauth/authorize",
        token: "/api/oauth/token",
        // The example API checks the token as the peers' /api/me does; absolute URL (its own port).
        api: `${s.galleryUrl}/api/v1/me`,
        introspect: "/api/oauth/introspect",
        revoke: "/api/oauth/revoke",
      },
      client: {
        id: s.client.client_id, secret: s.client.client_secret, auth: "client_secret_basic",
        redirect_uri: REDIRECT, scope: SCOPE,
      },
      cookies: s.sessions.map((c) => ({ edge_oauth_session: c.slice(c.indexOf("=") + 1) })),
      approve: { mode: "redirect" },
      api: { method: "GET", expect_status: 200 },
      steps: ["authorize", "token", "api", "refresh"],
    }));
    log(`run.sh <config> ${s.server.nodePid} ${PEER_N} ${PEER_C} ${PEER_REPS} (backend ${s.backend}; pid = serve-test's process tree)`);
    const code = await new Promise((resolve) => {
      const child = spawn("bash", [join(PEER_DIR, "run.sh"), cfg, String(s.server.nodePid), PEER_N, PEER_C, PEER_REPS], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stdout.on("data", (d) => process.stdout.write(d));
      child.stderr.on("data", (d) => {
        err = (err + d).slice(-2000);
      });
      const timer = setTimeout(() => {
        log("peer-bench: no result after 8 minutes, stopping it");
        child.kill("SIGTERM"); // the run.sh we started (its EXIT trap stops the peers)
      }, 8 * 60_000);
      child.on("error", (e) => {
        clearTimeout(timer);
        resolve(`could not start: ${e.message}`);
      });
      child.on("exit", (c, sig) => {
        clearTimeout(timer);
        resolve(c === 0 ? 0 : `exit ${c ?? sig}: ${err.trim().split("\n").slice(-8).join("\n")}`);
      });
    });
    if (code !== 0) log(`peer comparison failed (the bench goes on): ${code}`);
  } catch (e) {
    log(`peer comparison failed (the bench goes on): ${e.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/// Instantiation alone (memory, data segments, tables), as an isolate does once: the imports
/// are stand-ins that are never called (a wasm-bindgen module has no start function; the glue
/// in build/index.js calls into it only after instantiation).
function instantiateMs(module) {
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    const standIn = { function: () => { throw new Error("not called during instantiation"); },
      tag: WebAssembly.JSTag }[imp.kind];
    if (!standIn) throw new Error(`unexpected ${imp.kind} import ${imp.module}.${imp.name}`);
    (imports[imp.module] ??= {})[imp.name] = standIn;
  }
  const times = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    new WebAssembly.Instance(module, imports); // eslint-disable-line no-new
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[10];
}

async function main() {
  const t0 = performance.now();
  const variant = LABEL ? `, ${LABEL}` : "";
  log(`== Flow cost per step and backend${variant} (scope "${SCOPE}"${RESOURCE ? `, resource ${RESOURCE}` : ""}; ` +
    `${FLOWS} flows per backend in batches of ${BATCH}, ${USERS} signed-in users) ==`);
  log("CPU = workerd CPU (schedstat) per request, sequential requests, each batch started once workerd is idle;");
  log("storage operations = x-storage-ops header (COST_HEADER=1) averaged per request; Miniflare's KV and");
  log("Durable Objects run inside the same workerd, so their CPU is part of every figure.");
  const wasm = readFileSync(join(root, "build/index_bg.wasm"));
  const c0 = performance.now();
  const module = new WebAssembly.Module(wasm);
  log(`wasm module compile (V8 in node ${process.version}, ${wasm.length} bytes): ${(performance.now() - c0).toFixed(1)} ms wall`);
  log(`wasm instantiate (same module, median of 20): ${instantiateMs(module).toFixed(2)} ms wall`);
  log(`load average (1 min) before: ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}`);
  const results = [];
  for (const backend of BACKENDS) {
    const s = await prepare(backend);
    try {
      log(`[${backend}] ${USERS} users signed in; first request of the fresh isolate: ` +
        `${us(s.cold.first / 1000)} ms CPU (${us(s.cold.untilIdle / 1000)} ms until workerd was idle again)`);
      results.push({ backend, rows: await measureSteps(s), cold: s.cold });
      if (PEER && backend === BACKENDS[0]) {
        log(`\n== Peer comparison (../shared/peer-bench, backend ${backend}) ==`);
        await runPeers(s);
        log("");
      }
    } finally {
      await s.server.stop();
    }
  }
  log(`load average (1 min) after: ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}\n`);
  printTable(results);
  log("\nTargets (flow-cost issue):");
  printTargets(results);
  log(`flow bench finished in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(`flow bench failed: ${e.stack || e}`);
  process.exit(1);
});
