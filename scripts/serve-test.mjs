// Serves the built Worker (build/) in workerd through Miniflare, for the end-to-end tests and
// the benchmark. Fresh in-memory KV and freshly generated secrets each run.
//   node scripts/serve-test.mjs [--port N] [--alg ES256|RS256|EdDSA] [--var NAME=VALUE ...]
//                               [--gallery [--gallery-var NAME=VALUE ...]] [--inspector-port N]
// --gallery also serves examples/gallery-api (built into its build/) in the same workerd, on
// its own port: it shares the provider's OAUTH_KV namespace (the revocation list) and fetches
// the JWKS through a service binding to the provider. The provider's RESOURCES then name the
// API's origin and its /mcp URL (as `make dev` does), unless --var RESOURCES=... is given.
// Prints one JSON line when ready: {url, adminToken, assertionSecret, signingKeys,
// privateSigningKey (the active key, for tests that mint their own tokens), galleryUrl}.
// --faults SPEC (e.g. kv=0.02,do=0.02,do_after=0.02,seed=7, or 0 for none yet) serves the
// provider through scripts/fault-entry.mjs, which wraps its KV and Durable Object bindings so
// that calls fail at those rates (GET/POST /__faults reads and changes them while it runs).
// --inspector-port opens the V8 inspector of the Workers on 127.0.0.1:N (DevTools protocol;
// scripts/profile-flow.mjs takes CPU profiles through it).
// Exits when its standard input closes, so it dies with the test process that started it.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { existsSync, readFileSync } from "node:fs";
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
const varsOf = (flag) => {
  const vars = {};
  args.forEach((a, i) => {
    if (a === flag) {
      const [k, ...v] = args[i + 1].split("=");
      vars[k] = v.join("=");
    }
  });
  return vars;
};
const extraVars = varsOf("--var");
const gallery = args.includes("--gallery");
const galleryVars = varsOf("--gallery-var");
const galleryBuild = join(root, "examples/gallery-api/build");
const inspectorPort = Number(opt("--inspector-port", "0"));
const faultSpec = opt("--faults", undefined);
const faultRates = faultSpec === undefined ? undefined : Object.fromEntries(
  faultSpec.split(",").filter((p) => p.includes("=")).map((p) => p.split("=")).map(([k, v]) => [k, Number(v)]),
);
const inspect = inspectorPort ? { unsafeInspectorProxy: true } : {};

if (!existsSync(join(root, "build/index.js"))) {
  console.error("build/index.js is missing: run `sh scripts/build.sh` (make build) first");
  process.exit(1);
}
if (gallery && !existsSync(join(galleryBuild, "index.js"))) {
  console.error("examples/gallery-api/build is missing: run `sh scripts/build-gallery-api.sh` (make build) first");
  process.exit(1);
}

// The active key, an RS256 key for OpenID Connect ID tokens when the active key is not one,
// and a retired ES256 key that is still published (rotation in flight).
const active = signingKey(alg);
const idTokenKeys = alg === "RS256" ? [] : [signingKey("RS256")];
const retired = publicPart(signingKey("ES256"));
const adminToken = secret();
const assertionSecret = secret();

// The example API: same KV namespace id for OAUTH_KV, the JWKS through a service binding.
function galleryWorker(issuer, gp) {
  return {
    name: "gallery-api",
    modulesRoot: galleryBuild,
    modules: [
      { type: "ESModule", path: join(galleryBuild, "index.js") },
      { type: "CompiledWasm", path: join(galleryBuild, "index_bg.wasm") },
    ],
    compatibilityDate: "2026-11-01",
    kvNamespaces: { OAUTH_KV: "OAUTH_KV", GALLERY_KV: "GALLERY_KV" },
    serviceBindings: { OAUTH: "edge-oauth" },
    unsafeDirectSockets: [{ host: "127.0.0.1", port: gp }],
    bindings: { ISSUER: issuer, RESOURCE: `http://127.0.0.1:${gp}`, ...galleryVars },
    ...inspect,
  };
}

async function start(p, gp) {
  const provider = {
    name: "edge-oauth",
    modulesRoot: join(root, "build"),
    modules: [
      // With --faults the entry is the wrapper (named as if it sat in build/, beside index.js).
      ...(faultRates
        ? [{ type: "ESModule", path: join(root, "build/fault-entry.mjs"), contents: readFileSync(join(root, "scripts/fault-entry.mjs")) }]
        : []),
      { type: "ESModule", path: join(root, "build/index.js") },
      { type: "CompiledWasm", path: join(root, "build/index_bg.wasm") },
    ],
    compatibilityDate: "2026-11-01",
    kvNamespaces: ["OAUTH_KV"],
    // Per-user state objects (SQLite), in memory like the KV.
    durableObjects: { USER_STATE: { className: "UserState", useSQLite: true } },
    // As in wrangler.toml: dynamic registration, 10 per minute per address.
    ratelimits: {
      REGISTRATION_LIMIT: { namespace_id: "1001", simple: { limit: 10, period: 60 } },
      DOCUMENT_FETCH_LIMIT: { namespace_id: "1002", simple: { limit: 30, period: 60 } },
    },
    bindings: {
      ISSUER: `http://127.0.0.1:${p}`,
      SIGNING_KEYS: JSON.stringify([active, ...idTokenKeys, retired]),
      ADMIN_TOKEN: adminToken,
      LOGIN_ASSERTION_SECRET: assertionSecret,
      ...(faultRates ? { FAULT_RATES: JSON.stringify(faultRates) } : {}),
      ...(gallery ? { RESOURCES: JSON.stringify([`http://127.0.0.1:${gp}`, `http://127.0.0.1:${gp}/mcp`]) } : {}),
      ...extraVars,
    },
    ...inspect,
  };
  const issuer = `http://127.0.0.1:${p}`;
  // Miniflare 5 takes a new option shape; it converts the documented v4 shape for us.
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: p,
    cf: false,
    ...(inspectorPort ? { inspectorPort } : {}),
    workers: gallery ? [provider, galleryWorker(issuer, gp)] : [provider],
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
const galleryPort = gallery ? await freePort() : 0;
const mf = await start(chosen, galleryPort);
console.log(JSON.stringify({
  url: `http://127.0.0.1:${chosen}`,
  adminToken,
  assertionSecret,
  signingKeys: [publicPart(active), ...idTokenKeys.map(publicPart), retired],
  privateSigningKey: active,
  ...(gallery ? { galleryUrl: `http://127.0.0.1:${galleryPort}` } : {}),
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
