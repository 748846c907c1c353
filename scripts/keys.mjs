// Key and secret generation shared by the dev set-up, the test harness and operators.
//   node scripts/keys.mjs signing-key [ES256|RS256|EdDSA]   prints one private JWK (for SIGNING_KEYS)
//   node scripts/keys.mjs secret                            prints a random 256-bit secret
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";

export function signingKey(alg = "ES256") {
  const kid = `${alg.toLowerCase()}-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
  const pair =
    alg === "ES256" ? generateKeyPairSync("ec", { namedCurve: "P-256" })
    : alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : alg === "EdDSA" ? generateKeyPairSync("ed25519")
    : null;
  if (!pair) throw new Error(`unsupported alg ${alg} (ES256, RS256 or EdDSA)`);
  return { ...pair.privateKey.export({ format: "jwk" }), kid, alg };
}

export function publicPart(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

export function secret() {
  return randomBytes(32).toString("base64url");
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === "signing-key") console.log(JSON.stringify(signingKey(arg)));
  else if (cmd === "secret") console.log(secret());
  else {
    console.error("usage: node scripts/keys.mjs signing-key [ES256|RS256|EdDSA] | secret");
    process.exit(2);
  }
}
