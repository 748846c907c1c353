// Storage faults: complete flows against the built Worker while its KV and Durable Object
// calls fail at a given rate (scripts/fault-entry.mjs), by a client that retries a 503 as a
// careful client does (up to five times). Prints, per backend and rate: requests, faults
// injected by kind, 503s (and how many lacked Retry-After), 500s, flows completed (at once or
// after starting over) and why flows had to start over.
//   node scripts/bench-faults.mjs [--flows 200] [--rates 0.02,0.10] [--backends durable,kv] [--seed 7]
// A flow: authorize (prompt=consent) → sign-in page → sign in → consent page → approve → code
// exchange → three refreshes → revocation of the refresh token → introspection of the access
// token (which must then be inactive). Only 127.0.0.1; the server is stopped by its handle.
import { createHash, randomBytes } from "node:crypto";
import {
  PASSWORD, REDIRECT, FORM, b64url, cookiePair, createUser, form, hidden, log, registerClient, request,
  startServer, table,
} from "./bench-lib.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const FLOWS = Number(opt("--flows", "200"));
const RATES = opt("--rates", "0.02,0.10").split(",").map(Number);
const BACKENDS = opt("--backends", "durable,kv").split(",");
const SEED = Number(opt("--seed", "7"));
const USERS = 20;
const PARALLEL = 4;
const RETRIES = 5;
const SCOPE = "profile:read";

class StepFailed extends Error {
  constructor(step, r) {
    super(`${step}: ${r.status} ${r.body.slice(0, 160)}`);
    this.step = step;
    this.status = r.status;
    this.reason = `${step} → ${r.status}${errorCode(r.body)}`;
  }
}
const errorCode = (body) => {
  try {
    const e = JSON.parse(body).error;
    return e ? ` ${e}` : "";
  } catch {
    return "";
  }
};

async function run(backend, rate) {
  const server = await startServer("ES256", ["--var", `STATE_BACKEND=${backend}`, "--faults", "0"]);
  const base = server.info.url;
  const stats = { requests: 0, s503: 0, s503NoRetryAfter: 0, s500: 0, completed: 0, firstTry: 0, over: 0, failed: 0 };
  const reasons = new Map();
  try {
    const client = await registerClient(base, server.info.adminToken, SCOPE);
    const emails = [];
    for (let i = 0; i < USERS; i++) {
      emails.push(`faults-${i}@example.com`);
      await createUser(base, server.info.adminToken, emails[i]);
    }
    const faults = { kv: rate, do: rate / 2, do_after: rate / 2, seed: SEED };
    await request(base, "POST", "/__faults", { body: JSON.stringify(faults) });

    // One request, retried on 503 up to RETRIES times.
    const send = async (method, path, opts = {}) => {
      for (let attempt = 0; ; attempt++) {
        const r = await request(base, method, path, opts);
        stats.requests++;
        if (r.status === 500) stats.s500++;
        if (r.status !== 503 || attempt === RETRIES) return r;
        stats.s503++;
        if (!r.headers["retry-after"]) stats.s503NoRetryAfter++;
        await new Promise((res) => setTimeout(res, 10));
      }
    };
    const need = (step, r, status) => {
      if (r.status !== status) throw new StepFailed(step, r);
      return r;
    };
    const tokenPost = (fields) =>
      send("POST", "/api/oauth/token", { headers: { ...FORM, authorization: client.basic }, body: form(fields) });

    const flow = async (email) => {
      const verifier = b64url(randomBytes(32));
      const challenge = b64url(createHash("sha256").update(verifier).digest());
      const authorize = "/api/oauth/authorize?" + form([
        ["response_type", "code"], ["client_id", client.client_id], ["redirect_uri", REDIRECT],
        ["scope", SCOPE], ["state", "s"], ["code_challenge", challenge],
        ["code_challenge_method", "S256"], ["prompt", "consent"],
      ]);
      const loginPage = need("sign-in page", await send("GET", authorize), 200);
      const csrf = cookiePair(loginPage, "edge_oauth_login_csrf=");
      if (!csrf) throw new StepFailed("sign-in page", { status: loginPage.status, body: "no CSRF cookie" });
      const signedIn = need("sign in", await send("POST", "/api/oauth/login", {
        headers: { ...FORM, cookie: csrf },
        body: form([["email", email], ["password", PASSWORD],
          ["csrf_token", hidden(loginPage.body, "csrf_token")], ["return_to", hidden(loginPage.body, "return_to")]]),
      }), 303);
      const session = cookiePair(signedIn, "edge_oauth_session=");
      const consent = need("consent page", await send("GET", signedIn.headers.location, { headers: { cookie: session } }), 200);
      const approved = need("approve", await send("POST", "/api/oauth/authorize", {
        headers: { ...FORM, cookie: session },
        body: form([["csrf_token", hidden(consent.body, "csrf_token")], ["request_id", hidden(consent.body, "request_id")],
          ["decision", "approve"], ["scope", SCOPE]]),
      }), 303);
      const code = new URL(approved.headers.location).searchParams.get("code");
      if (!code) throw new StepFailed("approve", { status: 303, body: approved.headers.location });
      const tokens = JSON.parse(need("code exchange", await tokenPost([["grant_type", "authorization_code"],
        ["code", code], ["redirect_uri", REDIRECT], ["code_verifier", verifier]]), 200).body);
      let refresh = tokens.refresh_token;
      for (let i = 1; i <= 3; i++) {
        refresh = JSON.parse(need(`refresh ${i}`, await tokenPost([["grant_type", "refresh_token"],
          ["refresh_token", refresh]]), 200).body).refresh_token;
      }
      need("revoke", await send("POST", "/api/oauth/revoke", {
        headers: { ...FORM, authorization: client.basic }, body: form([["token", refresh]]),
      }), 200);
      const intro = need("introspect", await send("POST", "/api/oauth/introspect", {
        headers: { ...FORM, authorization: client.basic }, body: form([["token", tokens.access_token]]),
      }), 200);
      if (JSON.parse(intro.body).active !== false) {
        throw new StepFailed("introspect after revocation", { status: 200, body: "still active" });
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < FLOWS) {
        const i = next++;
        for (let attempt = 0; ; attempt++) {
          try {
            await flow(emails[i % USERS]);
            stats.completed++;
            if (attempt === 0) stats.firstTry++;
            else stats.over++;
            break;
          } catch (e) {
            if (!(e instanceof StepFailed)) throw e;
            reasons.set(e.reason, (reasons.get(e.reason) || 0) + 1);
            if (attempt === 4) {
              stats.failed++;
              break;
            }
          }
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const counts = JSON.parse((await request(base, "GET", "/__faults")).body).counts;
    return { backend, rate, stats, counts, reasons };
  } finally {
    await server.stop();
  }
}

const results = [];
for (const backend of BACKENDS) {
  for (const rate of RATES) {
    log(`[faults] ${backend}, ${rate * 100}% of KV calls and of object calls failing: ${FLOWS} flows`);
    results.push(await run(backend, rate));
  }
}
log("");
log(`Storage faults (${FLOWS} flows per run; a 503 is retried up to ${RETRIES} times; a failed step starts the flow over, at most 4 times)`);
table(
  ["backend", "fault rate", "requests", "KV faults", "object faults (before/after)", "503", "503 w/o Retry-After", "500", "completed", "after starting over", "never"],
  results.map(({ backend, rate, stats: s, counts: c }) => [
    backend, `${(rate * 100).toFixed(0)}%`, s.requests, `${c.kv}/${c.calls_kv}`,
    `${c.do}+${c.do_after}/${c.calls_do}`, s.s503, s.s503NoRetryAfter, s.s500, s.completed, s.over, s.failed,
  ]),
);
for (const { backend, rate, reasons } of results) {
  if (reasons.size === 0) continue;
  log(`\nwhy flows started over (${backend}, ${(rate * 100).toFixed(0)}%):`);
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) log(`  ${String(n).padStart(4)}  ${reason}`);
}
