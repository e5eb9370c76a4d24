import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

/** Runs the built `gitway` command as a user would; `npm test` builds it first. */
export function gitway(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Stops the process (SIGTERM) and resolves once it exited. */
  stop: () => Promise<void>;
}

/**
 * Starts `gitway serve` as a user would and resolves once it prints where it listens; rejects
 * with its stderr when it exits first or does not start within 15 s. The caller stops it.
 */
export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, "serve", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c));
  child.stderr!.on("data", (c: Buffer) => (err += c));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`gitway serve did not start: ${err}`));
    }, 15_000);
    child.stderr!.on("data", () => {
      const m = /on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      resolve({ url: m[1]!, child, stdout: () => out, stderr: () => err, stop });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gitway serve exited ${code}: ${err}`));
    });
  });
}
