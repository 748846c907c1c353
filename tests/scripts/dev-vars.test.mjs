// scripts/dev-vars.mjs (issue 15): a new .dev.vars holds an ES256 and an RS256 key; an existing
// one without an RS256 key gets one added after its keys, which stay; running again changes
// nothing. Runs the script in a scratch copy of scripts/ so the real .dev.vars is untouched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const scripts = join(dirname(fileURLToPath(import.meta.url)), "../../scripts");

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), "dev-vars-"));
  mkdirSync(join(dir, "scripts"));
  for (const f of ["dev-vars.mjs", "keys.mjs"]) cpSync(join(scripts, f), join(dir, "scripts", f));
  return dir;
}
const run = (dir) => execFileSync("node", [join(dir, "scripts/dev-vars.mjs")], { encoding: "utf8" });
const keysOf = (text) => JSON.parse(/^SIGNING_KEYS='(.*)'$/m.exec(text)[1]);

test("a new .dev.vars has an ES256 key first and an RS256 key", () => {
  const dir = scratch();
  try {
    run(dir);
    const keys = keysOf(readFileSync(join(dir, ".dev.vars"), "utf8"));
    assert.deepEqual(keys.map((k) => k.alg), ["ES256", "RS256"]);
    assert.ok(keys.every((k) => k.d), "private parts");
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("an existing .dev.vars keeps its keys and other lines and gains one RS256 key once", () => {
  const dir = scratch();
  try {
    const old = [{ kty: "EC", crv: "P-256", alg: "ES256", kid: "mine", x: "x", y: "y", d: "d" }];
    const text = `# mine\nSIGNING_KEYS='${JSON.stringify(old)}'\nADMIN_TOKEN=keep-me\n`;
    writeFileSync(join(dir, ".dev.vars"), text);
    assert.match(run(dir), /added an RS256 key/);
    const after = readFileSync(join(dir, ".dev.vars"), "utf8");
    const keys = keysOf(after);
    assert.deepEqual(keys[0], old[0], "the existing key stays first (access tokens unchanged)");
    assert.equal(keys[1].alg, "RS256");
    assert.match(after, /^ADMIN_TOKEN=keep-me$/m);
    assert.match(after, /^# mine$/m);
    run(dir);
    assert.equal(readFileSync(join(dir, ".dev.vars"), "utf8"), after, "second run changes nothing");
  } finally {
    rmSync(dir, { recursive: true });
  }
});
