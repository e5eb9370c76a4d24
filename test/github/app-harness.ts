import { generateKeyPairSync, randomBytes } from "node:crypto";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { request } from "undici";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";
import { FakeGitHub } from "./fake-github.js";

export const WEBHOOK_SECRET = "test-webhook-secret";
export const BASE_DOMAIN = "gitway.test:8787";

// One key for the whole file: RSA generation is slow, and the fake API does not check the JWT.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });

export interface AppUnderTest {
  github: FakeGitHub;
  app: Running;
  logs: string[];
  env: Record<string, string>;
  /** GET a path of an environment through the real gateway, by its host name. */
  call(label: string, path: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export async function startApp(options: { ghe?: boolean; env?: Record<string, string>; runWorker?: boolean; maxAttempts?: number } = {}): Promise<AppUnderTest> {
  const github = options.ghe ? new FakeGitHub("http://ghe.test", "/api/v3") : new FakeGitHub();
  nock.disableNetConnect();
  nock.enableNetConnect(/^(127\.0\.0\.1|localhost)(:\d+)?$/);
  github.install();
  const env: Record<string, string> = {
    APP_ID: "123",
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    PORT: "0",
    GATEWAY_PORT: "0",
    GATEWAY_BASE_DOMAIN: BASE_DOMAIN,
    GITWAY_DATA_DIR: "memory://",
    GITWAY_SECRET_KEY: randomBytes(32).toString("base64"),
    LOG_LEVEL: "fatal",
    GITWAY_RECONCILE_SECONDS: "0",
    // The tests' upstreams are on loopback, which a preview may reach only when the operator allows it.
    GITWAY_UPSTREAM_ALLOW: "127.0.0.1",
    ...(options.ghe ? { GHE_HOST: "ghe.test", GHE_PROTOCOL: "http" } : {}),
    ...options.env,
  };
  const logs: string[] = [];
  const app = await startGitway(readAppSettings(env), env, {
    // Octokit's own retry stays on (a test relies on it), with millisecond waits; no throttling queue.
    // Applied innermost, after Probot's own defaults, so they cannot be overridden again.
    Octokit: ProbotOctokit.defaults((o: Record<string, unknown>) => ({ ...o, retry: { retryAfterBaseValue: 2 }, throttle: { ...(o.throttle as object), enabled: false } })),
    log: (level, message) => void logs.push(`${level}: ${message}`),
    workerIdleMs: 10,
    queue: { backoffBaseMs: 5, backoffCapMs: 20 },
    ...(options.runWorker === false ? { runWorker: false } : {}),
  });
  return {
    github,
    app,
    logs,
    env,
    async call(label, path, headers = {}) {
      const res = await request(`${app.gatewayUrl}${path}`, { headers: { host: `${label}.${BASE_DOMAIN}`, ...headers } });
      return { status: res.statusCode, body: await res.body.text() };
    },
    async close() {
      await app.close();
      nock.cleanAll();
      nock.enableNetConnect();
    },
  };
}
