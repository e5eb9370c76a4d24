import { randomBytes } from "node:crypto";
import { AdminError, type AdminOperations, type AuditEntry, type AuditFilter, type CheckView, type DeploymentView, type EnvironmentView, type KeyView, type Page, type UsageFilter, type UsageView, type VariableView } from "../../src/admin/types.js";

/**
 * A small in-memory AdminOperations for the dashboard's tests: environments, deployments, keys
 * and an audit log held in maps. The real operations (over the store) have their own tests.
 */
export class MemoryOperations implements AdminOperations {
  readonly envs = new Map<string, EnvironmentView>();
  readonly deploys = new Map<string, DeploymentView[]>();
  readonly checkList = new Map<string, CheckView[]>();
  readonly keyList = new Map<string, (KeyView & { key: string })[]>();
  readonly vars = new Map<string, VariableView[]>();
  readonly usageRows = new Map<string, UsageView["rows"]>();
  readonly log: AuditEntry[] = [];
  syncs: { ref: string | undefined; actor: string }[] = [];

  addEnvironment(env: Partial<EnvironmentView> & { repository: string; name: string }): EnvironmentView {
    const label = env.label ?? `${env.repository.replace("/", "-")}-${env.name}`;
    const view: EnvironmentView = {
      kind: "preview",
      status: "synced",
      reason: null,
      pinned: false,
      reportOnly: false,
      url: `http://${label}.localhost:8787/`,
      tryUrl: env.tryUrl ?? `http://${label}.localhost:8787/`,
      runningRelease: null,
      engine: "node",
      engines: [],
      desiredRelease: null,
      commit: null,
      desiredCommit: null,
      branch: null,
      pullRequest: null,
      lastError: null,
      risk: { breaking: 0, security: 0 },
      smoke: null,
      updatedAt: "2026-11-25T12:00:00.000Z",
      ...env,
      label,
    };
    this.envs.set(label, view);
    return view;
  }

  private find(ref: string): EnvironmentView {
    const env = this.envs.get(ref) ?? [...this.envs.values()].find((e) => e.name === ref);
    if (!env) throw new AdminError("NOT_FOUND", `no environment "${ref}"`);
    return env;
  }

  private audited(actor: string, action: string, env: EnvironmentView | null, details: Record<string, unknown> = {}): void {
    this.log.push({ id: this.log.length + 1, at: new Date(Date.UTC(2026, 10, 25, 12, 0, this.log.length)).toISOString(), actor, action, repository: env?.repository ?? null, environment: env?.name ?? null, commit: null, details });
  }

  async environments() {
    return [...this.envs.values()];
  }
  async environment(ref: string) {
    return this.find(ref);
  }
  async deployments(ref: string, page: Page) {
    return (this.deploys.get(this.find(ref).label) ?? []).slice(page.offset, page.offset + page.limit);
  }
  async checks(ref: string) {
    return this.checkList.get(this.find(ref).label) ?? [];
  }
  async audit(filter: AuditFilter, page: Page) {
    const match = this.log
      .filter((e) => (!filter.actor || e.actor === filter.actor) && (!filter.action || e.action === filter.action) && (!filter.repository || e.repository === filter.repository) && (!filter.environment || e.environment === filter.environment || (this.envs.get(filter.environment)?.name === e.environment && this.envs.get(filter.environment)?.repository === e.repository)))
      .filter((e) => (!filter.since || e.at >= filter.since) && (!filter.until || e.at <= filter.until))
      .reverse();
    return { entries: match.slice(page.offset, page.offset + page.limit), total: match.length };
  }
  async usage(ref: string, query: UsageFilter): Promise<UsageView> {
    const env = this.find(ref);
    const rows = (this.usageRows.get(env.label) ?? []).filter((r) => query.operation === undefined || r.operation === query.operation || r.route === query.operation);
    return { environment: env.label, days: query.days ?? 30, total: rows.reduce((n, r) => n + r.calls, 0), rows };
  }
  async keys(ref: string) {
    return (this.keyList.get(this.find(ref).label) ?? []).map(({ id, consumer, createdAt }) => ({ id, consumer, createdAt }));
  }
  async createKey(ref: string, consumer: string, actor: string) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(consumer)) throw new AdminError("BAD_REQUEST", "a consumer name is 1 to 64 letters, digits, dots, dashes, underscores or @");
    const env = this.find(ref);
    const list = this.keyList.get(env.label) ?? [];
    const key = `gw_${randomBytes(16).toString("hex")}`;
    list.push({ id: list.length + 1, consumer, createdAt: "2026-11-25T12:30:00.000Z", key });
    this.keyList.set(env.label, list);
    this.audited(actor, "key.create", env, { consumer });
    return { consumer, key };
  }
  async revokeKey(ref: string, consumer: string, actor: string) {
    const env = this.find(ref);
    const list = this.keyList.get(env.label) ?? [];
    const kept = list.filter((k) => k.consumer !== consumer);
    this.keyList.set(env.label, kept);
    this.audited(actor, "key.revoke", env, { consumer });
    return { revoked: list.length - kept.length };
  }
  async variables(ref: string) {
    return this.vars.get(this.find(ref).label) ?? [];
  }
  async setVariable(ref: string, name: string, value: string, secret: boolean, actor: string) {
    const env = this.find(ref);
    this.vars.set(env.label, [...(this.vars.get(env.label) ?? []).filter((v) => v.name !== name), { name, secret, value: secret ? null : value }]);
    this.audited(actor, "variable.set", env, { name });
  }
  async sync(ref: string | undefined, actor: string) {
    const env = ref === undefined ? null : this.find(ref);
    this.syncs.push({ ref: env?.label, actor });
    this.audited(actor, "sync", env);
  }
  async rollback(ref: string, target: string, actor: string) {
    const env = this.find(ref);
    const d = (this.deploys.get(env.label) ?? []).find((x) => x.release === target || x.commit === target);
    if (!d) throw new AdminError("NOT_FOUND", `no release ${target} on ${env.label}`);
    env.pinned = true;
    env.desiredRelease = d.release;
    this.audited(actor, "rollback", env, { release: d.release });
    return { release: d.release, commit: d.commit, from: d.release };
  }
  async unpin(ref: string, actor: string) {
    const env = this.find(ref);
    env.pinned = false;
    this.audited(actor, "unpin", env);
  }
  async deployFiles(): Promise<{ release: string }> {
    throw new AdminError("BAD_REQUEST", "not in the dashboard");
  }
  async setReportOnly(ref: string, reportOnly: boolean, actor: string) {
    const env = this.find(ref);
    env.reportOnly = reportOnly;
    this.audited(actor, "report-only", env, { reportOnly });
  }
}
