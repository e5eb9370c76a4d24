import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { startProcess, type Started } from "../app/start.js";
import { FakeGitHub } from "./fake-github.js";
import { deliver } from "./webhooks.js";

export const PROCESS_WEBHOOK_SECRET = "process-webhook-secret";
export const PROCESS_BASE_DOMAIN = "gitway.test:8787";

let key: string | undefined;
/** One RSA key per test process: generating one takes a while, and the fake does not check the JWT. */
function privateKey(): string {
  key ??= generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } }).privateKey;
  return key;
}

export interface AppProcess {
  github: FakeGitHub;
  process: Started;
  appUrl: string;
  gatewayUrl: string;
  env: Record<string, string>;
  /** Posts a webhook as GitHub does (signed with the app's secret). */
  deliver(event: string, payload: Record<string, unknown>): Promise<{ status: number; body: string }>;
  /** A request through the real gateway, to the environment of that label. */
  call(label: string, path: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** Polls until the predicate holds (what the fake GitHub received, what the gateway serves). */
  waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  stop(): Promise<number | null>;
}

/**
 * The GitHub App as `npm start` runs it: `node dist/main.js` in its own process, its GitHub API a
 * fake served over HTTP on loopback (as GitHub Enterprise Server at GHE_HOST), Octokit's own retry
 * and throttling on, as in production.
 */
export async function startAppProcess(options: { env?: Record<string, string>; prepare?: (github: FakeGitHub) => void; github?: FakeGitHub } = {}): Promise<AppProcess> {
  // Several app processes may share one fake GitHub (each gets its own HTTP server onto it).
  const github = options.github ?? new FakeGitHub("http://github.test", "/api/v3");
  // What GitHub holds before the app starts (what its start-up sweep finds).
  options.prepare?.(github);
  const served = await github.serve();
  const dataDir = mkdtempSync(join(tmpdir(), "gitway-app-"));
  const env: Record<string, string> = {
    APP_ID: "123",
    PRIVATE_KEY: privateKey(),
    WEBHOOK_SECRET: PROCESS_WEBHOOK_SECRET,
    GHE_HOST: served.host,
    GHE_PROTOCOL: "http",
    PORT: "0",
    GATEWAY_PORT: "0",
    GATEWAY_BASE_DOMAIN: PROCESS_BASE_DOMAIN,
    GITWAY_DATA_DIR: dataDir,
    GITWAY_SECRET_KEY: randomBytes(32).toString("base64"),
    GITWAY_RECONCILE_SECONDS: "0",
    // The tests' upstreams are on loopback, which a preview may reach only when the operator allows it.
    GITWAY_UPSTREAM_ALLOW: "127.0.0.1",
    LOG_LEVEL: "info",
    ...options.env,
  };
  let started: Started;
  try {
    started = await startProcess(["dist/main.js"], env);
  } catch (e) {
    await served.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    github,
    process: started,
    appUrl: started.appUrl,
    gatewayUrl: started.gatewayUrl,
    env,
    deliver: (event, payload) => deliver(started.appUrl, event, payload, PROCESS_WEBHOOK_SECRET),
    async call(label, path, headers = {}) {
      const res = await request(`${started.gatewayUrl}${path}`, { headers: { host: `${label}.${PROCESS_BASE_DOMAIN}`, ...headers } });
      return { status: res.statusCode, body: await res.body.text() };
    },
    async waitFor(what, check, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > until) throw new Error(`waited ${timeoutMs} ms for ${what}; the app said:\n${started.output().slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      const code = await started.stop();
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
