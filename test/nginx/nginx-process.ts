import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const NGINX = "/usr/sbin/nginx";
export const JS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so";

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface RunningNginx {
  dir: string;
  port: number;
  stderr: () => string;
  stop: () => Promise<void>;
}

/**
 * Real nginx (Debian's, with the njs module) on rendered files in a fresh prefix, in the
 * foreground; `stop` ends it (SIGTERM, SIGKILL after 3 s) and removes the prefix.
 */
export async function startNginx(files: Record<string, string>, port: number): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), "gitway-nginx-"));
  // nginx's workers run as nobody when the master is root: they must reach the prefix.
  chmodSync(dir, 0o755);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  let err = "";
  const child: ChildProcess = spawn(NGINX, ["-p", dir, "-c", "nginx.conf", "-e", "stderr", "-g", `daemon off; pid ${join(dir, "nginx.pid")};`], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { dir, port, stderr: () => err, stop };
}
