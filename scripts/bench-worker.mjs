// A tiny JS Worker for `scripts/bench.mjs`: runs N operations inside workerd in one request,
// so the bench can read the per-operation CPU from the workerd process (a Worker's clock does
// not advance while it computes, so it cannot time itself).
//   GET /?op=sign|verify&alg=ES256|EdDSA|RS256&n=500   WebCrypto, as the Rust Worker calls it
//   GET /?op=pbkdf2&n=5                                 PBKDF2-HMAC-SHA256, 100,000 iterations
//   GET /?op=kvget|kvput&n=200                          the local (emulated) KV binding `KV`
// The signed message has the size of a typical access token's signing input (~600 bytes).
const PARAMS = {
  ES256: {
    gen: { name: "ECDSA", namedCurve: "P-256" },
    use: { name: "ECDSA", hash: "SHA-256" },
  },
  EdDSA: { gen: { name: "Ed25519" }, use: { name: "Ed25519" } },
  RS256: {
    gen: {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    use: { name: "RSASSA-PKCS1-v1_5" },
  },
};
const keys = new Map();
const message = new TextEncoder().encode("e".repeat(600));
const value = "v".repeat(400); // about the size of a grant or refresh-token record

async function keyFor(alg) {
  if (!keys.has(alg)) {
    const p = PARAMS[alg];
    const pair = await crypto.subtle.generateKey(p.gen, false, ["sign", "verify"]);
    const signature = await crypto.subtle.sign(p.use, pair.privateKey, message);
    keys.set(alg, { ...pair, signature, use: p.use });
  }
  return keys.get(alg);
}

async function pbkdf2(i) {
  const base = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(`a long enough password ${i}`),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const salt = crypto.getRandomValues(new Uint8Array(16));
  await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100000 }, base, 256);
}

let counter = 0;

export default {
  async fetch(request, env) {
    const q = new URL(request.url).searchParams;
    const op = q.get("op");
    const alg = q.get("alg");
    const n = Number(q.get("n") || "0");
    if (!(n >= 0 && n <= 5000)) return new Response("bad n", { status: 400 });
    if (op === "sign" || op === "verify") {
      if (!PARAMS[alg]) return new Response("bad alg", { status: 400 });
      const k = await keyFor(alg);
      for (let i = 0; i < n; i++) {
        if (op === "sign") {
          await crypto.subtle.sign(k.use, k.privateKey, message);
        } else if (!(await crypto.subtle.verify(k.use, k.publicKey, k.signature, message))) {
          return new Response("verify failed", { status: 500 });
        }
      }
    } else if (op === "pbkdf2") {
      for (let i = 0; i < n; i++) await pbkdf2(i);
    } else if (op === "kvput") {
      for (let i = 0; i < n; i++) await env.KV.put(`bench:${counter++}`, value, { expirationTtl: 3600 });
    } else if (op === "kvget") {
      if (counter === 0) await env.KV.put(`bench:${counter++}`, value, { expirationTtl: 3600 });
      for (let i = 0; i < n; i++) {
        if ((await env.KV.get(`bench:${i % counter}`)) === null) return new Response("kv miss", { status: 500 });
      }
    } else {
      return new Response("bad op", { status: 400 });
    }
    return new Response("ok");
  },
};
