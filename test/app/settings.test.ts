import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { environmentUrl, readAppSettings, SettingsError } from "../../src/app/settings.js";
import { ROOT } from "./start.js";

function refused(env: Record<string, string>): string {
  try {
    readAppSettings(env);
  } catch (e) {
    expect(e).toBeInstanceOf(SettingsError);
    return (e as SettingsError).setting;
  }
  throw new Error("accepted");
}

describe("the settings npm start reads", () => {
  it("default to one machine: app on 127.0.0.1:3000, gateway on 8787 under localhost:8787, PGlite in ./data", () => {
    const s = readAppSettings({});
    expect(s).toMatchObject({ host: "127.0.0.1", port: 3000, gatewayPort: 8787, baseDomain: "localhost:8787", dataDir: "./data", databaseUrl: undefined, github: undefined, reconcileSeconds: 300 });
    expect(environmentUrl(s, "acme-shop-pr-12")).toBe("http://acme-shop-pr-12.localhost:8787/");
  });

  it("bound the work by default: 4 jobs at once, 30 s per GitHub request, bursts of 20 GitHub writes, 300 s per job, 30 days of history", () => {
    expect(readAppSettings({})).toMatchObject({ workerConcurrency: 4, githubTimeoutSeconds: 30, githubWriteBurst: 20, jobTimeoutSeconds: 300, retentionDays: 30, usageDays: 90 });
    expect(readAppSettings({ GITWAY_GITHUB_WRITE_BURST: "1" }).githubWriteBurst).toBe(1);
    expect(readAppSettings({ GITWAY_USAGE_DAYS: "400" }).usageDays).toBe(400);
    expect(readAppSettings({ GITWAY_WORKER_CONCURRENCY: "8", GITWAY_GITHUB_TIMEOUT_SECONDS: "2.5", GITWAY_JOB_TIMEOUT_SECONDS: "60", GITWAY_RETENTION_DAYS: "0" })).toMatchObject({
      workerConcurrency: 8,
      githubTimeoutSeconds: 2.5,
      jobTimeoutSeconds: 60,
      retentionDays: 0,
    });
  });

  it("serve everything with the Node gateway unless GATEWAY_ENGINE=nginx, and previews with it always", () => {
    expect(readAppSettings({})).toMatchObject({ gatewayEngine: "node", previewEngine: "node" });
    expect(readAppSettings({ GATEWAY_ENGINE: "nginx" })).toMatchObject({ gatewayEngine: "nginx", previewEngine: "node", nginx: { bin: "/usr/sbin/nginx", configDir: undefined, nodeGatewayPort: 0 } });
    expect(readAppSettings({ GATEWAY_ENGINE: "nginx", NGINX_BIN: "/opt/nginx/sbin/nginx", NGINX_CONFIG_DIR: "/srv/nginx", GATEWAY_NODE_PORT: "8788" })).toMatchObject({ previewEngine: "node", nginx: { bin: "/opt/nginx/sbin/nginx", configDir: "/srv/nginx", nodeGatewayPort: 8788 } });
  });

  it("refuse an nginx setup that cannot work, naming the setting", () => {
    expect(refused({ GATEWAY_ENGINE: "envoy" })).toBe("GATEWAY_ENGINE");
    expect(refused({ GATEWAY_PREVIEW_ENGINE: "nginx" })).toBe("GATEWAY_PREVIEW_ENGINE");
  });

  it("keep previews on the Node gateway, which holds what a pull request's upstreams may reach to the egress rules", () => {
    expect(() => readAppSettings({ GATEWAY_ENGINE: "nginx", GATEWAY_PREVIEW_ENGINE: "nginx" })).toThrow(/nginx cannot hold a preview to the egress rules \(GITWAY_UPSTREAM_ALLOW\)/);
    expect(refused({ GATEWAY_ENGINE: "nginx", GATEWAY_PREVIEW_ENGINE: "nginx" })).toBe("GATEWAY_PREVIEW_ENGINE");
    expect(refused({ GATEWAY_ENGINE: "nginx", GATEWAY_PORT: "0" })).toBe("GATEWAY_PORT");
    expect(refused({ GATEWAY_ENGINE: "nginx", GITWAY_ROLE: "app", DATABASE_URL: "postgres://x/y" })).toBe("GATEWAY_ENGINE");
    expect(refused({ GATEWAY_ENGINE: "nginx", GATEWAY_WORKERS: "2", DATABASE_URL: "postgres://x/y", GATEWAY_PORT: "8787" })).toBe("GATEWAY_WORKERS");
    expect(refused({ NGINX_CONFIG_DIR: "/srv/nginx" })).toBe("NGINX_CONFIG_DIR");
    expect(refused({ GATEWAY_ENGINE: "nginx", GATEWAY_NODE_PORT: "http" })).toBe("GATEWAY_NODE_PORT");
  });

  it("take the scheme and port of preview URLs from GATEWAY_PUBLIC_URL", () => {
    const s = readAppSettings({ GATEWAY_BASE_DOMAIN: "gw.example.com", GATEWAY_PUBLIC_URL: "https://gw.example.com" });
    expect(environmentUrl(s, "acme-shop-production")).toBe("https://acme-shop-production.gw.example.com/");
  });

  it("point the GitHub App at GitHub Enterprise with GHE_HOST and GHE_PROTOCOL", () => {
    const s = readAppSettings({ APP_ID: "12", PRIVATE_KEY: "x", WEBHOOK_SECRET: "s", GHE_HOST: "ghe.example.com", GHE_PROTOCOL: "http" });
    expect(s.github).toMatchObject({ appId: 12, baseUrl: "http://ghe.example.com/api/v3", webhookPath: "/api/github/webhooks" });
  });

  it.each([
    [{ PORT: "http" }, "PORT"],
    [{ GATEWAY_PORT: "70000" }, "GATEWAY_PORT"],
    [{ APP_ID: "abc", PRIVATE_KEY: "x", WEBHOOK_SECRET: "s" }, "APP_ID"],
    [{ APP_ID: "1", WEBHOOK_SECRET: "s" }, "PRIVATE_KEY"],
    [{ APP_ID: "1", PRIVATE_KEY: "x" }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_SECRET: "s" }, "APP_ID"],
    [{ APP_ID: "1", PRIVATE_KEY: "x", WEBHOOK_SECRET: "s", GHE_PROTOCOL: "ftp" }, "GHE_PROTOCOL"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ GATEWAY_PUBLIC_URL: "ftp://x" }, "GATEWAY_PUBLIC_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ GITWAY_WORKER_CONCURRENCY: "0" }, "GITWAY_WORKER_CONCURRENCY"],
    [{ GITWAY_WORKER_CONCURRENCY: "2.5" }, "GITWAY_WORKER_CONCURRENCY"],
    [{ GITWAY_WORKER_CONCURRENCY: "65" }, "GITWAY_WORKER_CONCURRENCY"],
    [{ GITWAY_GITHUB_TIMEOUT_SECONDS: "0" }, "GITWAY_GITHUB_TIMEOUT_SECONDS"],
    [{ GITWAY_GITHUB_WRITE_BURST: "0" }, "GITWAY_GITHUB_WRITE_BURST"],
    [{ GITWAY_GITHUB_WRITE_BURST: "2.5" }, "GITWAY_GITHUB_WRITE_BURST"],
    [{ GITWAY_GITHUB_WRITE_BURST: "21" }, "GITWAY_GITHUB_WRITE_BURST"],
    [{ GITWAY_JOB_TIMEOUT_SECONDS: "soon" }, "GITWAY_JOB_TIMEOUT_SECONDS"],
    [{ GITWAY_RETENTION_DAYS: "-1" }, "GITWAY_RETENTION_DAYS"],
    [{ GITWAY_USAGE_DAYS: "0" }, "GITWAY_USAGE_DAYS"],
    [{ GITWAY_USAGE_DAYS: "1.5" }, "GITWAY_USAGE_DAYS"],
  ])("refuse %o, naming %s", (env, name) => {
    expect(refused(env as Record<string, string>)).toBe(name);
  });

  it("stop npm start with one line naming a malformed setting", () => {
    const r = spawnSync(process.execPath, ["dist/main.js"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", APP_ID: "1", PRIVATE_KEY: "not a key", WEBHOOK_SECRET: "s", GITWAY_DATA_DIR: "memory://" }, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("gitway: PRIVATE_KEY: is not a PEM private key (download it from the GitHub App's settings page)\n");
  });

  it("stop npm start with one line when a required setting is missing", () => {
    const r = spawnSync(process.execPath, ["dist/main.js"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", APP_ID: "1", PRIVATE_KEY_PATH: "/nonexistent/key.pem" }, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["gitway: WEBHOOK_SECRET: is not set: it must match the webhook secret of the GitHub App"]);
  });
});
