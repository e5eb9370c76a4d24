#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { DEFAULT_LIMITS, hasErrors, readConfig } from "./config/index.js";
import { readPathSnapshot, SnapshotReadError } from "./git/index.js";
import { formatDiagnosticLine, summarizeDiagnostics } from "./report/index.js";

/** Exit codes: 0 fine, 1 the config has errors, 2 the command could not run (usage, unreadable input). */
const EXIT_USAGE = 2;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive whole number");
  return n;
}

function defaultMaxFileBytes(): number {
  const fromEnv = process.env.GITWAY_MAX_FILE_BYTES;
  return fromEnv && /^\d+$/.test(fromEnv) ? Number(fromEnv) : DEFAULT_LIMITS.maxFileBytes;
}

export function buildCli(): Command {
  const program = new Command("gitway")
    .description("GitOps for API gateways: validate, diff and serve gateway config kept in Git")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("validate")
    .description("Validate a repository's gateway config (a directory, or one OpenAPI file) and print every problem at file:line:column")
    .argument("[path]", "repository directory or OpenAPI file", ".")
    .option("--format <format>", "text or json", "text")
    .option("--max-file-bytes <n>", "files larger than this get one diagnostic and are not parsed", positiveInt, defaultMaxFileBytes())
    .action(async (path: string, opts: { format: string; maxFileBytes: number }) => {
      if (opts.format !== "text" && opts.format !== "json") throw new CommanderError(EXIT_USAGE, "gitway.usage", `error: --format must be text or json, not "${opts.format}"`);
      const { snapshot, openapi } = await readPathSnapshot(path, opts.maxFileBytes);
      const { diagnostics } = readConfig(snapshot, { limits: { maxFileBytes: opts.maxFileBytes }, ...(openapi ? { openapi } : {}) });
      if (opts.format === "json") {
        process.stdout.write(JSON.stringify({ diagnostics }, null, 2) + "\n");
      } else {
        const prefix = openapi ? "" : path === "." ? "" : path.replace(/\/+$/, "") + "/";
        const dir = openapi ? path.slice(0, path.length - openapi.length) : prefix;
        for (const d of diagnostics) process.stdout.write(formatDiagnosticLine(d, dir) + "\n");
        process.stderr.write(`${summarizeDiagnostics(diagnostics)}\n`);
      }
      process.exitCode = hasErrors(diagnostics) ? 1 : 0;
    });

  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "gitway.usage") process.stderr.write(e.message + "\n");
      return EXIT_USAGE;
    }
    if (e instanceof SnapshotReadError) {
      process.stderr.write(`gitway: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}

/** True when this file is the process entry, also through npm's bin symlink. */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntry()) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`gitway: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 3;
    },
  );
}
