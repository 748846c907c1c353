// Test-only entry module: serves the built Worker (./index.js) with its storage bindings
// wrapped so that calls fail at configured rates, the way they fail on Cloudflare now and then.
// scripts/serve-test.mjs loads it in front of build/index.js when started with --faults; it is
// never part of the deployed bundle.
//
// Kinds of fault (rates between 0 and 1, each call drawn independently):
// - kv:        a KV call (get, put, delete, list) rejects before it runs: "KV PUT failed: 503"
//              (or "429 Too Many Requests" for a third of the writes), nothing happens.
// - do:        a Durable Object call rejects before it reaches the object: nothing happens.
// - do_after:  the object runs the call and commits, then its answer is lost
//              ("Network connection lost."), as a dropped connection does.
//
// GET /__faults answers the counters and rates as JSON; POST /__faults with a JSON body
// {kv, do, do_after, seed} sets the rates (0 turns a kind off) and resets the counters, so a
// test can set up its users and clients without faults and then turn them on.
import Provider, * as exports from "./index.js";
import { WorkerEntrypoint } from "cloudflare:workers";

export const UserState = exports.UserState;

const config = { kv: 0, do: 0, do_after: 0, seed: 1 };
const counts = { calls_kv: 0, calls_do: 0, kv: 0, do: 0, do_after: 0 };

// A small seeded generator (mulberry32): a run with one seed draws the same sequence.
let state = 1;
function reseed(seed) {
  state = seed >>> 0 || 1;
}
function draw() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const hit = (kind) => config[kind] > 0 && draw() < config[kind];

const WRITES = new Set(["put", "delete"]);

function wrapKv(kv) {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || prop === "constructor") return value;
      return (...args) => {
        counts.calls_kv++;
        if (hit("kv")) {
          counts.kv++;
          const name = String(prop).toUpperCase();
          const why = WRITES.has(prop) && draw() < 1 / 3 ? "429 Too Many Requests" : "503 Service Unavailable";
          return Promise.reject(new Error(`KV ${name} failed: ${why} (injected fault)`));
        }
        return value.apply(target, args);
      };
    },
  });
}

function wrapStub(stub) {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function" || prop === "constructor") return value;
      if (prop !== "fetch") return value.bind(target);
      return async (...args) => {
        counts.calls_do++;
        if (hit("do")) {
          counts.do++;
          throw new Error("Network connection lost. (injected fault, before the object)");
        }
        const answer = await value.apply(target, args);
        if (hit("do_after")) {
          counts.do_after++;
          // The object committed; drain its answer so nothing is left pending, then lose it.
          await answer.arrayBuffer().catch(() => {});
          throw new Error("Network connection lost. (injected fault, after the object committed)");
        }
        return answer;
      };
    },
  });
}

function wrapNamespace(ns) {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      // `constructor` unbound: workers-rs recognises a binding by its constructor's name.
      if (typeof value !== "function" || prop === "constructor") return value;
      if (prop === "get") return (...args) => wrapStub(value.apply(target, args));
      return value.bind(target);
    },
  });
}

function wrapEnv(env) {
  const { FAULT_RATES: _rates, ...wrapped } = env;
  if (env.OAUTH_KV) wrapped.OAUTH_KV = wrapKv(env.OAUTH_KV);
  if (env.USER_STATE) wrapped.USER_STATE = wrapNamespace(env.USER_STATE);
  return wrapped;
}

function faultsEndpoint(request) {
  if (request.method === "POST") {
    return request.json().then((body) => {
      for (const kind of ["kv", "do", "do_after"]) config[kind] = Number(body[kind] ?? 0);
      config.seed = Number(body.seed ?? 1);
      reseed(config.seed);
      for (const k of Object.keys(counts)) counts[k] = 0;
      return Response.json({ config, counts });
    });
  }
  return Response.json({ config, counts });
}

// Rates given on serve-test.mjs's command line arrive as the FAULT_RATES binding (JSON).
let started = false;
function start(env) {
  started = true;
  if (!env.FAULT_RATES) return;
  const initial = JSON.parse(env.FAULT_RATES);
  for (const kind of ["kv", "do", "do_after", "seed"]) if (kind in initial) config[kind] = Number(initial[kind]);
  reseed(config.seed);
}

export default class FaultyProvider extends WorkerEntrypoint {
  fetch(request) {
    if (!started) start(this.env);
    if (new URL(request.url).pathname === "/__faults") return faultsEndpoint(request);
    const inner = new Provider(this.ctx, wrapEnv(this.env));
    return inner.fetch(request);
  }
}

