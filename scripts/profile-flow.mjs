// Where a returning user's flow spends CPU: a V8 CPU profile of the Workers over many flows.
//   node scripts/profile-flow.mjs [--flows 300] [--users 20] [--backend durable|kv]
//                                 [--interval-us 100] [--out /tmp/flow.cpuprofile] [--top 40]
// Starts `serve-test.mjs --gallery --inspector-port N` (the built Worker from build/; build it
// with `CARGO_PROFILE_RELEASE_STRIP=false sh scripts/build.sh` to see wasm function names),
// signs in --users accounts that approve the client once, runs warm-up flows, then takes one
// profile (DevTools protocol `Profiler.start`/`stop`) per Worker isolate over --flows flows of
// authorize → token → api (the example API's /api/v1/me) → refresh, as ../shared/peer-bench
// does. Prints the top functions by self time and by total (inclusive) time, and writes the
// profiles (open them in Chrome DevTools). workerd also runs Miniflare's KV and Durable Object
// emulation in isolates the inspector does not show; their CPU is in no profile.
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
// Miniflare's inspector proxy refuses clients that send a User-Agent without an allowed
// Origin (as Node's built-in WebSocket does); the `ws` package (Miniflare's own) sends neither.
import WebSocket from "ws";
import { log, fail, cpuSchedUs, startServer, prepareFlows } from "./bench-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const FLOWS = Number(opt("--flows", "300"));
const USERS = Number(opt("--users", "20"));
const BACKEND = opt("--backend", "durable");
const INTERVAL = Number(opt("--interval-us", "100"));
const OUT = opt("--out", "/tmp/flow.cpuprofile");
const TOP = Number(opt("--top", "40"));
const ONLY = opt("--worker", ""); // profile only the Worker whose inspector title contains this
const SCOPE = "profile:read";

const port = await new Promise((resolve, reject) => {
  const srv = createServer();
  srv.on("error", reject);
  srv.listen(0, "127.0.0.1", () => {
    const { port } = srv.address();
    srv.close(() => resolve(port));
  });
});

/** A DevTools protocol session over one target's websocket. */
async function session(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 1;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Self and total time per function (name + script), in µs, from a V8 CPU profile. */
function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const label = (n) => {
    const f = n.callFrame;
    const script = f.url ? f.url.split("/").pop() : "";
    return `${f.functionName || "(anonymous)"}${script ? ` [${script}]` : ""}`;
  };
  const self = new Map();
  const total = new Map();
  let all = 0;
  // Each sample counts one interval: V8 samples only while this isolate runs, so the time
  // delta before a sample also covers what other isolates did in between.
  profile.samples.forEach((id) => {
    const dt = INTERVAL;
    all += dt;
    const n = byId.get(id);
    self.set(label(n), (self.get(label(n)) || 0) + dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur));
      if (!seen.has(l)) {
        seen.add(l);
        total.set(l, (total.get(l) || 0) + dt);
      }
    }
  });
  return { self, total, all };
}

function printTop(title, map, all, flows) {
  log(`\n${title} (µs per flow, % of sampled time)`);
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .forEach(([name, t]) =>
      log(`${(t / flows).toFixed(1).padStart(8)}  ${((100 * t) / all).toFixed(1).padStart(5)}%  ${name.slice(0, 150)}`));
}

const server = await startServer("ES256", [
  "--gallery", "--var", `STATE_BACKEND=${BACKEND}`, "--inspector-port", String(port),
]);
try {
  const { steps, newFlows } = await prepareFlows(server.info, {
    users: USERS,
    scope: SCOPE,
    emailPrefix: "profile",
  });
  // authorize → token → the example API → refresh, as peer-bench's flow.
  const flow = async () => {
    const [f] = newFlows(1);
    for (const step of ["authorize", "token", "api", "refresh"]) await steps[step](f);
  };
  for (let i = 0; i < 30; i++) await flow();

  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  if (!targets.length) fail("the inspector lists no Worker");
  const profilers = [];
  for (const t of targets.filter((t) => (t.title || t.id).includes(ONLY))) {
    const s = await session(t.webSocketDebuggerUrl);
    await s.send("Profiler.enable");
    await s.send("Profiler.setSamplingInterval", { interval: INTERVAL });
    profilers.push({ title: t.title || t.id, s });
  }
  for (const p of profilers) await p.s.send("Profiler.start");
  const cpu0 = cpuSchedUs(server.pid);
  const t0 = performance.now();
  for (let i = 0; i < FLOWS; i++) await flow();
  const cpu = (cpuSchedUs(server.pid) - cpu0) / FLOWS;
  const wall = ((performance.now() - t0) * 1000) / FLOWS;
  log(`workerd CPU while profiling: ${cpu.toFixed(0)} µs per flow (wall ${wall.toFixed(0)} µs per flow)`);
  for (const p of profilers) {
    const { profile } = await p.s.send("Profiler.stop");
    const name = p.title.replace(/[^A-Za-z0-9_-]+/g, "_");
    const out = OUT.replace(/\.cpuprofile$/, "") + `-${name}.cpuprofile`;
    writeFileSync(out, JSON.stringify(profile));
    const { self, total, all } = summarize(profile);
    log(`\n== ${p.title}: ${(all / FLOWS).toFixed(0)} µs sampled per flow over ${FLOWS} flows (${out}) ==`);
    printTop("self time", self, all, FLOWS);
    printTop("total time", total, all, FLOWS);
    p.s.close();
  }
} finally {
  await server.stop();
}
