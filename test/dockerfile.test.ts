import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SEED_DIR } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dockerfile = readFileSync(new URL("../Dockerfile", import.meta.url), "utf8");

function instruction(name: string): string[] {
  const line = dockerfile.split("\n").find((l) => l.startsWith(name + " "));
  if (!line) throw new Error(`Dockerfile has no ${name}`);
  return JSON.parse(line.slice(name.length + 1)) as string[];
}

describe("the Dockerfile", () => {
  it("starts a command that works: its ENTRYPOINT and CMD validate a mounted repository", () => {
    // No Docker engine here: run the image's start command against this checkout's build, /app being the checkout.
    const [bin, ...args] = [...instruction("ENTRYPOINT"), ...instruction("CMD")].map((a) => a.replace(/^\/app\//, ROOT));
    expect(bin).toBe("node");
    const r = spawnSync(process.execPath, args, { cwd: SEED_DIR, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("0 errors, 0 warnings, 0 notes\n");
    expect(r.status).toBe(0);
  });

  it("copies what the build needs and installs with the lockfile", () => {
    expect(dockerfile).toMatch(/COPY package\.json package-lock\.json/);
    expect(dockerfile).toMatch(/RUN npm ci/);
  });
});
