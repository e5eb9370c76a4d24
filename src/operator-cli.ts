import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import type { EnvironmentView, KeyView, UsageView } from "./admin/index.js";
import { readDirectorySnapshot } from "./git/index.js";
import { formatCount } from "./report/index.js";

/**
 * The operator's commands: clients of the admin API (GITWAY_URL), never of the database, so they
 * work while the server holds PGlite and against a remote server alike.
 */

/** One line for the operator and exit code 2: the server is away, the token is wrong, no such environment. */
export class OperatorError extends Error {
  readonly code = "OPERATOR_REQUEST_FAILED";
}

interface ClientOptions {
  url: string;
  token: string | undefined;
}

function clientOptions(): ClientOptions {
  const url = (process.env.GITWAY_URL || "http://127.0.0.1:3000").replace(/\/+$/, "");
  let token = process.env.GITWAY_ADMIN_TOKEN || undefined;
  if (!token) {
    const file = join(process.env.GITWAY_DATA_DIR || "./data", "admin-token");
    if (existsSync(file)) token = readFileSync(file, "utf8").trim();
  }
  return { url, token };
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const { url, token } = clientOptions();
  const write = method !== "GET";
  if (write && !token) throw new OperatorError(`this needs the admin token: set GITWAY_ADMIN_TOKEN (or run where ${join(process.env.GITWAY_DATA_DIR || "./data", "admin-token")} exists)`);
  let res: Response;
  try {
    res = await fetch(url + path, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...(process.env.USER ? { "x-gitway-actor": process.env.USER.replace(/[^\w.@-]/g, "").slice(0, 64) } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new OperatorError(`cannot reach the Gitway server at ${url}${cause ? ` (${cause})` : ""}: is it running? (npm start, or set GITWAY_URL; a starting server answers once it prints "app on ...")`);
  }
  const data = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
  if (res.status === 401 && token) throw new OperatorError(`the admin token is wrong: the server at ${url} refused it (check GITWAY_ADMIN_TOKEN, or ${join(process.env.GITWAY_DATA_DIR || "./data", "admin-token")} of that server)`);
  if (!res.ok) throw new OperatorError(data.error?.message ?? `the server answered ${res.status}`);
  return data;
}

const enc = encodeURIComponent;

function print(format: string, json: unknown, text: () => string): void {
  process.stdout.write(format === "json" ? JSON.stringify(json, null, 2) + "\n" : text());
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

function environmentsTable(envs: EnvironmentView[]): string {
  if (envs.length === 0) return "No environments yet.\n";
  return table([
    ["ENVIRONMENT", "REPOSITORY", "KIND", "STATUS", "ENGINE", "COMMIT", "RELEASE", "URL"],
    ...envs.map((e) => [e.name, e.repository, e.kind, e.pinned ? `${e.status} (pinned)` : e.status, engineCell(e), e.commit?.sha.slice(0, 7) ?? "-", e.runningRelease ?? "-", e.tryUrl]),
  ]);
}

/** "node", or "nginx" with how many of its instances serve the deployed release (an engine that lags shows). */
function engineCell(e: EnvironmentView): string {
  if ((e.engine ?? "node") === "node") return "node";
  const engines = e.engines ?? [];
  const current = engines.filter((i) => i.release !== null && i.release === e.desiredRelease).length;
  return `nginx ${current}/${engines.length}`;
}

function formatOption(cmd: Command): Command {
  return cmd.option("--format <format>", "text or json", formatArgument, "text");
}

/** A format this command does not print is a usage error (exit 2), never a silent text. */
function formatArgument(value: string): string {
  if (value !== "text" && value !== "json") throw new InvalidArgumentError(`must be text or json, not ${JSON.stringify(value.slice(0, 20))}`);
  return value;
}

function daysArgument(value: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 366) throw new InvalidArgumentError(`must be a whole number of days from 1 to 366, not ${JSON.stringify(value.slice(0, 20))}`);
  return Number(value);
}

/** Calls per operation and consumer, most first, then the total. */
function usageText(u: UsageView, operation: string | undefined): string {
  const window = `in the last ${u.days} day${u.days === 1 ? "" : "s"}`;
  if (u.rows.length === 0) return `No calls${operation ? ` to ${operation}` : ""} ${window} on ${u.environment}.\n`;
  const rows = u.rows.map((r) => [r.operation, r.consumer, formatCount(r.calls), ["2xx", "3xx", "4xx", "5xx"].map((c) => `${c} ${formatCount(r.byStatus[c] ?? 0)}`).join("  ")]);
  return table([["OPERATION", "CONSUMER", "CALLS", "BY STATUS"], ...rows]) + `${formatCount(u.total)} call${u.total === 1 ? "" : "s"} ${window} on ${u.environment}.\n`;
}

/** Environments that need the operator: what `gitway status` exits 1 for. */
export function needsAttention(e: EnvironmentView): boolean {
  return e.status === "failed" || e.status === "out-of-sync";
}

export function registerOperatorCommands(program: Command): void {
  formatOption(program.command("status").description("Every environment's sync status, from the Gitway server at GITWAY_URL (default http://127.0.0.1:3000)")).action(async (o: { format: string }) => {
    const { environments } = await call<{ environments: EnvironmentView[] }>("GET", "/api/environments");
    print(o.format, { environments }, () => {
      const off = environments.filter((e) => e.status !== "synced");
      const risky = environments.filter((e) => e.risk.breaking > 0).map((e) => `${e.name}: runs ${e.risk.breaking} unapproved breaking change${e.risk.breaking === 1 ? "" : "s"}${e.risk.security ? ` (${e.risk.security} security)` : ""}\n`);
      // A smoke test that did not pass is worth a line: the preview serves, but not as described (or its upstream is down).
      const smoke = environments.filter((e) => e.smoke && e.smoke.conclusion !== "success").map((e) => `${e.name}: smoke test ${e.smoke!.conclusion === "failure" ? "failed" : e.smoke!.conclusion}: ${e.smoke!.title}\n`);
      return environmentsTable(environments) + (off.length ? off.map((e) => `${e.name}: ${e.status}: ${e.reason ?? ""}\n`).join("") : environments.length ? "All synced.\n" : "") + risky.join("") + smoke.join("");
    });
    if (environments.some(needsAttention)) process.exitCode = 1;
  });

  const github = program.command("github").description("The GitHub App this Gitway runs as");
  formatOption(github.command("status").description("Which GitHub App is connected, where its settings come from, and its installations")).action(async (o: { format: string }) => {
    const st = await call<{ from: string; appId?: number; name?: string; slug?: string; apiUrl?: string; installUrl?: string; connectedBy?: string; connectedAt?: string; installations?: string[] }>("GET", "/api/github");
    print(o.format, st, () => {
      if (st.from === "none") return `No GitHub App is connected: open ${clientOptions().url}/github/connect to register one.\n`;
      const who = st.from === "environment" ? `GitHub App ${st.appId} at ${st.apiUrl}, set in the server's environment` : `GitHub App ${st.name} (${st.slug}, id ${st.appId}) at ${st.apiUrl}, connected by ${st.connectedBy} on ${st.connectedAt}\ninstall it: ${st.installUrl}`;
      return `${who}\ninstallations: ${st.installations?.length ? st.installations.join(", ") : "none yet"}\n`;
    });
  });
  formatOption(github.command("disconnect").description("Forget the GitHub App connected from its manifest (audited); it stays registered on GitHub")).action(async (o: { format: string }) => {
    const result = await call<{ disconnected: { appId: number; slug: string }; note: string }>("POST", "/api/github/disconnect");
    print(o.format, result, () => `Disconnected GitHub App ${result.disconnected.slug} (id ${result.disconnected.appId}); ${result.note}\n`);
  });

  const env = program.command("env").description("Environments and their $env values");
  formatOption(env.command("list").description("List the environments")).action(async (o: { format: string }) => {
    const { environments } = await call<{ environments: EnvironmentView[] }>("GET", "/api/environments");
    print(o.format, { environments }, () => environmentsTable(environments));
  });
  formatOption(env.command("set").description("Set a $env value of an environment (a secret is stored encrypted and never shown again)").argument("<env>", "environment name or label").argument("<assignment>", "NAME=VALUE").option("--secret", "store it as a secret")).action(
    async (name: string, assignment: string, o: { format: string; secret?: boolean }) => {
      const eq = assignment.indexOf("=");
      if (eq <= 0) throw new OperatorError(`expected NAME=VALUE, not ${JSON.stringify(assignment.slice(0, 40))}`);
      const result = await call("PUT", `/api/environments/${enc(name)}/values/${enc(assignment.slice(0, eq))}`, { value: assignment.slice(eq + 1), secret: o.secret === true });
      print(o.format, result, () => `${assignment.slice(0, eq)} set on ${name}${o.secret ? " (secret)" : ""}; the environment was rebuilt with it.\n`);
    },
  );

  const keys = program.command("keys").description("API keys of an environment's consumers");
  formatOption(keys.command("create").description("Create an API key (shown once; only its hash is kept)").requiredOption("--env <env>", "environment").requiredOption("--consumer <name>", "who the key is for")).action(async (o: { env: string; consumer: string; format: string }) => {
    const created = await call<{ consumer: string; key: string }>("POST", `/api/environments/${enc(o.env)}/keys`, { consumer: o.consumer });
    const { environment } = await call<{ environment: EnvironmentView }>("GET", `/api/environments/${enc(o.env)}`);
    print(o.format, { ...created, url: environment.tryUrl }, () => `API key for ${created.consumer} on ${environment.name} (shown once, keep it now):\n${created.key}\n\ncurl -H "Authorization: Bearer ${created.key}" ${environment.tryUrl}\n`);
  });
  formatOption(keys.command("list").description("List an environment's keys (never the keys themselves)").requiredOption("--env <env>", "environment")).action(async (o: { env: string; format: string }) => {
    const { keys: list } = await call<{ keys: KeyView[] }>("GET", `/api/environments/${enc(o.env)}/keys`);
    print(o.format, { keys: list }, () => (list.length ? table([["CONSUMER", "KEY ID", "CREATED", "FROM"], ...list.map((k) => [k.consumer, String(k.id), k.createdAt, k.inheritedFrom ? `${k.inheritedFrom}, inherited (revoke with gitway keys revoke --env ${k.inheritedFrom} --consumer ${k.consumer})` : "own"])]) : "No keys.\n"));
  });
  formatOption(keys.command("revoke").description("Revoke every key of a consumer").requiredOption("--env <env>", "environment").requiredOption("--consumer <name>", "whose keys")).action(async (o: { env: string; consumer: string; format: string }) => {
    const result = await call<{ revoked: number; rebuild?: { ok: boolean; failed: { environment: string; reason: string }[] } }>("DELETE", `/api/environments/${enc(o.env)}/keys/${enc(o.consumer)}`);
    const failed = (result.rebuild?.failed ?? []).map((f) => `Not rebuilt: ${f.environment}: ${f.reason} (the key is refused all the same).\n`).join("");
    print(o.format, result, () => `Revoked ${result.revoked} key${result.revoked === 1 ? "" : "s"} of ${o.consumer}.\n${failed}`);
  });

  formatOption(
    program
      .command("usage")
      .description("Calls an environment's gateway answered, per operation and consumer (names and counts only)")
      .argument("<env>", "environment")
      .option("--operation <id>", "only this operationId (or METHOD /path)")
      .option("--days <n>", "the window, in days", daysArgument, 30),
  ).action(async (name: string, o: { format: string; operation?: string; days: number }) => {
    const query = new URLSearchParams({ days: String(o.days), ...(o.operation ? { operation: o.operation } : {}) });
    const { usage } = await call<{ usage: UsageView }>("GET", `/api/environments/${enc(name)}/usage?${query}`);
    print(o.format, { usage }, () => usageText(usage, o.operation));
  });

  formatOption(program.command("sync").description("Reconcile now: every environment, or one").argument("[env]", "environment")).action(async (name: string | undefined, o: { format: string }) => {
    const result = await call("POST", name ? `/api/environments/${enc(name)}/sync` : "/api/sync");
    print(o.format, result, () => `Syncing ${name ?? "every environment"}; gitway status shows the result.\n`);
  });
  formatOption(program.command("rollback").description("Pin an environment to an earlier release or commit; newer commits wait until it is unpinned").argument("<env>", "environment").argument("<release-or-commit>", "release hash or commit SHA")).action(
    async (name: string, target: string, o: { format: string }) => {
      const result = await call<{ release: string; commit: string | null; from?: string }>("POST", `/api/environments/${enc(name)}/rollback`, { target });
      // A release holds the keys and values too: the config of an old one runs with today's, under a new id.
      const rebuilt = result.from && result.from !== result.release ? `the config of release ${result.from}, with today's keys and values, as release ${result.release}` : `release ${result.release}`;
      print(o.format, result, () => `${name} now serves ${rebuilt}${result.commit ? ` (commit ${result.commit.slice(0, 7)})` : ""} and is pinned: gitway unpin ${name} lets Git deploy again.\n`);
    },
  );
  formatOption(program.command("unpin").description("Let Git deploy to a pinned environment again").argument("<env>", "environment")).action(async (name: string, o: { format: string }) => {
    const result = await call("POST", `/api/environments/${enc(name)}/unpin`);
    print(o.format, result, () => `${name} is unpinned; the next sync deploys its branch head.\n`);
  });
  formatOption(program.command("deploy").description("Serve a directory's config in an environment outside Git (reported as drift, corrected at the next sync unless report-only)").argument("<env>", "environment").argument("<path>", "repository directory")).action(
    async (name: string, path: string, o: { format: string }) => {
      const snapshot = await readDirectorySnapshot(path, 32 * 1024 * 1024);
      const files: Record<string, string> = {};
      for (const [p, c] of snapshot) if (typeof c === "string" || c instanceof Uint8Array) files[p] = Buffer.from(c).toString("utf8");
      const result = await call<{ release: string }>("POST", `/api/environments/${enc(name)}/deploy`, { files });
      print(o.format, result, () => `${name} serves ${path} as release ${result.release}. It differs from Git until the next sync corrects it.\n`);
    },
  );
}
