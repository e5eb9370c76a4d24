import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Started {
  child: ChildProcess;
  appUrl: string;
  gatewayUrl: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Starts `node <script>` as `npm start` does and waits for the line that says where it listens. */
export function startProcess(args: string[], env: Record<string, string>, cwd = ROOT, timeoutMs = 60_000, ready = /app on (http:\/\/[^\s;]+)[^\n]*gateway on (http:\/\/[^\s;]+)/): Promise<Started> {
  const child = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const stop = () =>
    new Promise<number | null>((resolve) => {
      // Exited already, or killed by a test (a killed child has a signal and no exit code).
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", (code) => {
        clearTimeout(kill);
        resolve(code);
      });
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = () => {
      // `ready` names the app's URL and the gateway's, in that order (either may be absent in a role).
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, appUrl: m[1] ?? "", gatewayUrl: m[2] ?? "", output: () => out, stop });
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before starting:\n${out}`));
    });
  });
}
