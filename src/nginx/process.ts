import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ConfigDir } from "./config-dir.js";

/** Debian's nginx (nginx-light or nginx); NGINX_BIN names another. */
export const DEFAULT_NGINX_BIN = "/usr/sbin/nginx";
/** Debian's njs module (libnginx-mod-http-js), loaded by the rendered nginx.conf. */
export const NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so";

/** nginx could not be started (its own message: a port in use, a missing module); callers match on `code`. */
export class NginxStartError extends Error {
  readonly code = "NGINX_START";
  constructor(message: string) {
    super(message);
    this.name = "NginxStartError";
  }
}

/** How the agent tests and applies a configuration: an nginx it runs as its child, or an operator's. */
export interface NginxControl {
  /** `nginx -t` of a generation: undefined when nginx accepts it, else nginx's own message. */
  test(generation: string): Promise<string | undefined>;
  /** Makes nginx read `current` (started the first time, reloaded after). */
  apply(): Promise<void>;
  /** Makes nginx reopen its log files (its workers flush their buffered lines first); rejects when it could not. */
  reopen(): Promise<void>;
  /** Whether `stop` ends nginx itself (then nothing writes the logs after it), or leaves the operator's running. */
  readonly ownsNginx: boolean;
  stop(): Promise<void>;
}

const TEST_TIMEOUT_MS = 15_000;

/** nginx's message without its "nginx: " prefixes, the closing "test failed" line and the folder's absolute path. */
export function nginxMessage(stderr: string, root: string): string {
  return stderr
    .split("\n")
    .map((l) => l.replace(/^nginx: /, "").trim())
    .filter((l) => l && !/^configuration file .* test (failed|is successful)$/.test(l) && !/syntax is ok$/.test(l))
    .join("; ")
    .split(`${root}/`)
    .join("");
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: "SIGKILL" }, (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      const why = error && typeof error.code !== "number" ? `${file} could not run: ${error.message}` : "";
      resolve({ code, stderr: `${stderr}${why}` });
    });
  });
}

/** `nginx -t` of `<generation>/nginx.conf` under the folder as prefix (what a reload would read). */
export async function testGeneration(bin: string, dir: ConfigDir, generation: string): Promise<string | undefined> {
  const { code, stderr } = await run(bin, ["-t", "-q", "-p", `${dir.root}/`, "-e", "logs/error.log", "-c", `${generation}/nginx.conf`], TEST_TIMEOUT_MS);
  return code === 0 ? undefined : nginxMessage(stderr, dir.root) || `nginx -t failed (exit ${code})`;
}

/**
 * nginx as the agent's child, with the configuration folder as its prefix, in the foreground, so it
 * ends with the agent. A reload is SIGHUP to its master: old workers finish their requests while
 * new ones take the new configuration. A master that dies is started again (after 1 s, doubled up
 * to 30 s while it keeps dying) from the last good configuration.
 */
export class ChildNginx implements NginxControl {
  readonly ownsNginx = true;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartDelay = 1_000;
  private readonly pidFile: string;

  constructor(
    private readonly bin: string,
    private readonly dir: ConfigDir,
    private readonly log: (level: "info" | "warn" | "error", message: string) => void,
  ) {
    this.pidFile = join(dir.root, "logs", "nginx.pid");
  }

  test(generation: string): Promise<string | undefined> {
    return testGeneration(this.bin, this.dir, generation);
  }

  /** The master's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  async apply(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill("SIGHUP");
      return;
    }
    await this.start();
  }

  /** SIGUSR1 to the master, as `nginx -s reopen` sends it; with no master running nothing writes the logs. */
  async reopen(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGUSR1");
  }

  private async start(): Promise<void> {
    rmSync(this.pidFile, { force: true });
    const child = spawn(this.bin, ["-p", `${this.dir.root}/`, "-e", "logs/error.log", "-c", "current/nginx.conf", "-g", `daemon off; pid ${this.pidFile};`], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const born = Date.now();
    // Only a master that served is started again; one that fails its start reports it to the caller.
    let up = false;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.once("error", (e) => (stderr += e.message));
    void exited.then((code) => {
      if (this.stopping || this.child !== child || !up) return;
      this.restartDelay = Date.now() - born < 5_000 ? Math.min(30_000, this.restartDelay * 2) : 1_000;
      this.log("error", `nginx exited (code ${code}): ${nginxMessage(stderr, this.dir.root) || "no message"}; starting it again in ${this.restartDelay} ms`);
      setTimeout(() => void (this.stopping ? undefined : this.start().catch((e: unknown) => this.log("error", `nginx did not start again: ${(e as Error).message}`))), this.restartDelay).unref();
    });
    // nginx writes its pid file once its listening sockets are open: then it serves.
    const until = Date.now() + 10_000;
    while (!existsSync(this.pidFile) || readFileSync(this.pidFile, "utf8").trim() !== String(child.pid)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new NginxStartError(`nginx did not start: ${nginxMessage(stderr, this.dir.root) || `exit ${child.exitCode}`}`);
      if (Date.now() > until) {
        child.kill("SIGKILL");
        throw new NginxStartError("nginx did not start within 10 s");
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    up = true;
  }

  /** Graceful stop (SIGQUIT: workers finish their requests), then SIGKILL after the grace. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGQUIT");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

/**
 * An nginx the operator runs (its nginx.conf includes the agent's `current/` files): the agent tests
 * each generation with the same binary, then runs the operator's reload command; to collect the
 * usage log it runs the reopen command (`nginx -s reopen` with the same binary by default, which
 * signals the nginx whose pid file the binary was built with).
 */
export class OperatorNginx implements NginxControl {
  readonly ownsNginx = false;
  constructor(
    private readonly bin: string,
    private readonly dir: ConfigDir,
    private readonly reloadCommand: string,
    private readonly reopenCommand?: string,
  ) {}

  async reopen(): Promise<void> {
    const { code, stderr } = this.reopenCommand ? await run("/bin/sh", ["-c", this.reopenCommand], TEST_TIMEOUT_MS) : await run(this.bin, ["-s", "reopen"], TEST_TIMEOUT_MS);
    if (code !== 0) throw new Error(`the reopen command failed (exit ${code}): ${nginxMessage(stderr, this.dir.root).slice(0, 500)}`);
  }

  test(generation: string): Promise<string | undefined> {
    return testGeneration(this.bin, this.dir, generation);
  }

  async apply(): Promise<void> {
    const { code, stderr } = await run("/bin/sh", ["-c", this.reloadCommand], TEST_TIMEOUT_MS);
    if (code !== 0) throw new Error(`the reload command failed (exit ${code}): ${nginxMessage(stderr, this.dir.root).slice(0, 500)}`);
  }

  async stop(): Promise<void> {}
}
