import { spawn, type ChildProcess } from "node:child_process";
import { gitEnv } from "./git-env.js";
import { SnapshotReadError } from "./local-snapshot.js";

export interface RunGitOptions {
  cwd?: string;
  /** Default 60 s: every git process ends, answered or not. */
  timeoutMs?: number;
  /** The job's signal: its deadline, a lost lease or a stop end the process too. */
  signal?: AbortSignal;
  /** Written to stdin, which is then closed. */
  input?: string;
  maxBytes?: number;
}

/**
 * Spawns `git` in a process group of its own and, at the timeout or when `signal` aborts, kills
 * the whole group: a fetch's helpers (git-remote-http, ssh) would otherwise outlive a killed git,
 * holding its output open, and the wait would go on. Resolves with stdout as bytes.
 */
export function runGit(args: string[], options: RunGitOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new SnapshotReadError(`git ${args[0]} not started: ${reasonOf(options.signal)}`));
    // gitEnv: never a question on a terminal nobody watches, never the app's secrets.
    const child: ChildProcess = spawn("git", args, { cwd: options.cwd, env: gitEnv(), stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = "";
    let settled = false;
    const finish = (e: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (e) reject(e);
      else resolve(Buffer.concat(out));
    };
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL"); // the group is gone already; the process itself, in case
      }
    };
    const stop = (why: string) => {
      killGroup();
      // Rejected at once: whatever still holds the pipes is killed, nobody waits for it.
      finish(new SnapshotReadError(`git ${args[0]} stopped: ${why}`));
    };
    const timer = setTimeout(() => stop(`timed out after ${timeoutMs / 1000} s`), timeoutMs);
    const onAbort = () => stop(reasonOf(options.signal!));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout!.on("data", (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > maxBytes) return stop(`its output is over ${maxBytes} bytes`);
      out.push(c);
    });
    child.stderr!.on("data", (c: Buffer) => {
      if (err.length < 16 * 1024) err += c.toString("utf8");
    });
    child.on("error", (e) => finish(new SnapshotReadError(`git ${args[0]} failed: ${e.message}`)));
    child.on("close", (code) => {
      if (code === 0) return finish(undefined);
      const why = err.trim().split("\n").at(-1) || `exit code ${code}`;
      finish(Object.assign(new SnapshotReadError(`git ${args[0]} failed: ${why}`), { exitCode: code }));
    });
    child.stdin!.on("error", () => {}); // git may exit before reading all of its input
    child.stdin!.end(options.input ?? "");
  });
}

function reasonOf(signal: AbortSignal): string {
  const r = signal.reason as unknown;
  return r instanceof Error ? r.message : "the job was stopped";
}
