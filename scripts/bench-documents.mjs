// Cost of Client ID Metadata Documents at authorize (`make bench` → scripts/bench.sh → this).
//   node scripts/bench-documents.mjs [--n 60]
// Starts `serve-test.mjs --var CLIENT_METADATA_DOCUMENTS=loopback --var COST_HEADER=1` and a
// document server on 127.0.0.1 (in this process, so its CPU is not workerd's), then measures
// `GET /api/oauth/authorize` without a session (the sign-in page), --n requests per case:
// a registered client (the baseline), a document URL seen for the first time (the Worker
// fetches, checks and caches it: one outbound fetch and one KV write), the same URLs again
// after 6 s (cached: one KV read) and at once again (the isolate read them within 5 s: none).
// Each first-time request comes from its own address, so the per-address fetch limit (30 a
// minute) is not what is measured. CPU = workerd CPU (schedstat) per request.
// Only 127.0.0.1; the servers started here are stopped through their handles.
import http from "node:http";
import { createHash, randomBytes } from "node:crypto";
import {
  REDIRECT, log, fail, request, form, b64url, runBatch, startServer, registerClient, table, pct,
} from "./bench-lib.mjs";

const args = process.argv.slice(2);
const N = Number(args[args.indexOf("--n") + 1] || 60) || 60;

/** Serves `/doc/{i}.json` as a valid public client document naming its own URL. */
async function documentServer() {
  let fetches = 0;
  const server = http.createServer((req, res) => {
    fetches++;
    const id = `http://127.0.0.1:${server.address().port}${req.url}`;
    const body = JSON.stringify({
      client_id: id, client_name: "Bench agent", redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none",
    });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=3600" });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { base: `http://127.0.0.1:${server.address().port}`, server, fetches: () => fetches };
}

function authorizePath(clientId) {
  const challenge = b64url(createHash("sha256").update(b64url(randomBytes(32))).digest());
  return "/api/oauth/authorize?" + form([
    ["response_type", "code"], ["client_id", clientId], ["redirect_uri", REDIRECT],
    ["scope", "profile:read"], ["code_challenge", challenge], ["code_challenge_method", "S256"],
  ]);
}

function opsOf(r) {
  const out = {};
  for (const part of (r.headers["x-storage-ops"] || "").split(";")) {
    const [k, v] = part.trim().split("=");
    if (k) out[k] = Number(v);
  }
  return out;
}

async function main() {
  const docs = await documentServer();
  const server = await startServer("ES256", [
    "--var", "CLIENT_METADATA_DOCUMENTS=loopback", "--var", "COST_HEADER=1",
  ]);
  try {
    const { url: base, adminToken } = server.info;
    const client = await registerClient(base, adminToken, "profile:read");
    const urls = Array.from({ length: N }, (_, i) => `${docs.base}/doc/${i}.json`);
    const rows = [];
    const measureCase = async (name, clientIdOf, headersOf = () => ({})) => {
      const ops = {};
      const part = await runBatch(server.pid, {
        count: N,
        one: async (i) => {
          const r = await request(base, "GET", authorizePath(clientIdOf(i)), { headers: headersOf(i) });
          if (r.status !== 200) fail(`${name}: expected the sign-in page, got ${r.status}: ${r.body.slice(0, 200)}`);
          for (const [k, v] of Object.entries(opsOf(r))) ops[k] = (ops[k] || 0) + v;
        },
      });
      const lats = part.lats.sort((a, b) => a - b);
      const per = (k) => ((ops[k] || 0) / N).toFixed(2);
      rows.push([name, N, (part.sched / N / 1000).toFixed(2), pct(lats, 50).toFixed(2),
        per("kv_reads"), per("kv_writes"), per("object_calls")]);
    };
    // Warm the isolate first (the first request of a fresh isolate is reported elsewhere).
    for (let i = 0; i < 5; i++) await request(base, "GET", authorizePath(client.client_id));
    await measureCase("registered client (baseline)", () => client.client_id);
    const before = docs.fetches();
    await measureCase("document, first time (fetched)", (i) => urls[i],
      (i) => ({ "cf-connecting-ip": `198.51.100.${i % 250}` }));
    const fetched = docs.fetches() - before;
    // Past the isolate's 5 s memory of KV entries (src/store/cache.rs): the KV cache entry is
    // read, as by a client coming back later.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    await measureCase("document, cached (KV)", (i) => urls[i]);
    await measureCase("document, cached (again within 5 s)", (i) => urls[i]);
    if (docs.fetches() - before !== fetched) fail("a cached document was fetched again");
    log(`== Client ID Metadata Documents at authorize (no session: the sign-in page; ${N} requests per row) ==`);
    log("CPU = workerd CPU (schedstat) per request; the document server runs outside workerd.");
    table(["case", "n", "CPU ms/req", "p50 ms", "KV reads", "KV writes", "object calls"], rows);
    log(`documents fetched: ${fetched} for ${N} first-time requests, 0 for the ${N} cached ones`);
  } finally {
    await server.stop();
    docs.server.close();
  }
}

main().catch((e) => {
  console.error(`document bench failed: ${e.stack || e}`);
  process.exitCode = 1;
});
