import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./fixtures/cluster-main.ts", import.meta.url));

async function pidsAnswering(port: number, tries = 40): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < tries; i++) {
    const r = await request(`http://127.0.0.1:${port}/`, { headers: { connection: "close" }, reset: true }).catch(() => undefined);
    if (r) seen.add(await r.body.text());
  }
  return seen;
}

describe("startCluster", () => {
  it("runs two gateway processes on one port and replaces one that dies", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      let out = "";
      child.stdout!.on("data", (c: Buffer) => (out += c));
      const until = async (re: RegExp) => {
        for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
        return re.exec(out);
      };
      const port = Number((await until(/ready (\d+)/))![1]);
      const first = await pidsAnswering(port);
      expect(first.size).toBe(2);
      const victim = Number([...first][0]);
      process.kill(victim, "SIGKILL");
      let after = new Set<string>();
      for (let i = 0; i < 40 && !(after.size === 2 && !after.has(String(victim))); i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await pidsAnswering(port, 10);
      }
      expect(after.size).toBe(2);
      expect(after.has(String(victim))).toBe(false);
    } finally {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  }, 30_000);
});
