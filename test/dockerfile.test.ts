import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, startProcess } from "./app/start.js";

const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");

function instruction(name: string): string[] {
  const line = dockerfile.split("\n").find((l) => l.startsWith(name + " "));
  if (!line) throw new Error(`Dockerfile has no ${name}`);
  return JSON.parse(line.slice(name.length + 1)) as string[];
}

describe("the Dockerfile", () => {
  it("starts what npm start starts: its ENTRYPOINT and CMD bring up the app and the gateway, and stop cleanly", async () => {
    // No Docker engine here: run the image's start command against this checkout's build, /app being the checkout.
    const [bin, ...args] = [...instruction("ENTRYPOINT"), ...instruction("CMD")].map((a) => a.replace(/^\/app\//, ROOT));
    expect(bin).toBe("node");
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
    expect(pkg.scripts.start).toBe(`node ${args.map((a) => a.replace(ROOT, "")).join(" ")}`);
    const data = mkdtempSync(join(tmpdir(), "gitway-docker-"));
    try {
      const app = await startProcess(args, { GITWAY_DATA_DIR: data, PORT: "0", GATEWAY_PORT: "0", GITWAY_POLL_SECONDS: "3600" });
      const health = await fetch(`${app.appUrl}/healthz`);
      expect(health.status).toBe(200);
      expect(await app.stop()).toBe(0);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it("copies what the build needs and installs with the lockfile", () => {
    expect(dockerfile).toMatch(/COPY package\.json package-lock\.json/);
    expect(dockerfile).toMatch(/RUN npm ci/);
  });
});
