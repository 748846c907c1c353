// Serves the built Worker (build/) in workerd through Miniflare, for the end-to-end tests and
// the benchmark. Fresh in-memory KV and freshly generated secrets each run.
//   node scripts/serve-test.mjs [--port N] [--alg ES256|RS256|EdDSA] [--var NAME=VALUE ...]
// Prints one JSON line when ready: {url, adminToken, assertionSecret, signingKeys}.
// Exits when its standard input closes, so it dies with the test process that started it.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { signingKey, publicPart, secret } from "./keys.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const port = Number(opt("--port", "0"));
const alg = opt("--alg", "ES256");
const extraVars = {};
args.forEach((a, i) => {
  if (a === "--var") {
    const [k, ...v] = args[i + 1].split("=");
    extraVars[k] = v.join("=");
  }
});

if (!existsSync(join(root, "build/index.js"))) {
  console.error("build/index.js is missing: run `sh scripts/build.sh` (make build) first");
  process.exit(1);
}

// The active key plus a retired ES256 key that is still published (rotation in flight).
const active = signingKey(alg);
const retired = publicPart(signingKey("ES256"));
const adminToken = secret();
const assertionSecret = secret();

async function start(p) {
  // Miniflare 5 takes a new option shape; it converts the documented v4 shape for us.
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: p,
    cf: false,
    modulesRoot: join(root, "build"),
    modules: [
      { type: "ESModule", path: join(root, "build/index.js") },
      { type: "CompiledWasm", path: join(root, "build/index_bg.wasm") },
    ],
    compatibilityDate: "2026-11-01",
    kvNamespaces: ["OAUTH_KV"],
    // Per-user state objects (SQLite), in memory like the KV.
    durableObjects: { USER_STATE: { className: "UserState", useSQLite: true } },
    bindings: {
      ISSUER: `http://127.0.0.1:${p}`,
      SIGNING_KEYS: JSON.stringify([active, retired]),
      ADMIN_TOKEN: adminToken,
      LOGIN_ASSERTION_SECRET: assertionSecret,
      ...extraVars,
    },
  }));
  await mf.ready;
  return mf;
}

// The issuer must name the real port, so a free port is found first when none is given.
async function freePort() {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const chosen = port || (await freePort());
const mf = await start(chosen);
console.log(JSON.stringify({
  url: `http://127.0.0.1:${chosen}`,
  adminToken,
  assertionSecret,
  signingKeys: [publicPart(active), retired],
}));

const stop = async () => {
  await mf.dispose().catch(() => {});
  process.exit(0);
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
