// Shared set-up of the browser tests: the built Worker in workerd (scripts/serve-test.mjs),
// a loopback "client app" whose /callback records what the browser brings it, and headless
// Chromium driven by Playwright. Not a test file itself (node --test runs *.test.mjs).
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { startProvider } from "../support/provider.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(join(root, "package.json"));
const { chromium } = require("playwright-core");
export const shots = join(root, "target/browser-screenshots");

/// Starts everything; `onCallback(url)` receives each request the client's /callback gets
/// (not the browser's /favicon.ico). Returns {info, browser, redirect, stop}.
export async function startHarness(serveArgs, onCallback) {
  mkdirSync(shots, { recursive: true });
  const callbackServer = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/callback") onCallback(url);
    res.end("client callback");
  });
  await new Promise((resolve) => callbackServer.listen(0, "127.0.0.1", resolve));
  const redirect = `http://127.0.0.1:${callbackServer.address().port}/callback`;
  const info = await startProvider(serveArgs);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const stop = async () => {
    await browser.close();
    callbackServer.close();
    info.stop();
  };
  return { info, browser, redirect, stop };
}
