import { APPROVAL_PERMISSIONS, FORK_POLICIES, SETTINGS_PATH, unknownSeverityRules, type Diagnostic, type GatewayConfig, type Location, type RepoSettings } from "../config/index.js";
import type { ChangeSink } from "./emit.js";
import { CHANGE_RULES } from "./rules.js";

/**
 * Problems in the `diff:` part of a config's settings that only the diff stage can see: rule ids
 * under `diff.severity` that are not rules. Callers fail on them (an override that does nothing
 * would let a change through that the repository meant to stop).
 */
export function checkDiffSettings(config: GatewayConfig): Diagnostic[] {
  return unknownSeverityRules(config.docs, config.settings, Object.keys(CHANGE_RULES));
}

/** One setting's move, as the rule that reports it sees it. */
interface GateMove {
  loosens: boolean;
  pointer: string;
  message: string;
}

/** Levels from the most to the least strict: a rule moved later lets more through. */
const LEVEL_STRICTNESS = ["breaking", "warning", "info", "off"] as const;

function rank<T>(order: readonly T[], value: T): number {
  return order.indexOf(value);
}

function levelOf(settings: RepoSettings, rule: string): (typeof LEVEL_STRICTNESS)[number] {
  return settings.diff.severity[rule] ?? CHANGE_RULES[rule]?.level ?? "breaking";
}

/**
 * How the gates moved from base to head's `.github/gitway.yml`. Pure: a pull request that turns a
 * rule off, accepts a fingerprint, lowers who may approve, makes the changes check neutral, opens
 * fork previews or moves production changes how it is judged, so that is itself a change.
 */
export function settingsGateMoves(base: RepoSettings, head: RepoSettings): GateMove[] {
  const moves: GateMove[] = [];
  const move = (loosens: boolean, pointer: string, message: string) => moves.push({ loosens, pointer, message });

  const rules = [...new Set([...Object.keys(base.diff.severity), ...Object.keys(head.diff.severity)])].sort();
  for (const rule of rules) {
    const [from, to] = [levelOf(base, rule), levelOf(head, rule)];
    if (from === to) continue;
    move(rank(LEVEL_STRICTNESS, to) > rank(LEVEL_STRICTNESS, from), `/diff/severity/${rule.replace(/~/g, "~0").replace(/\//g, "~1")}`, `diff.severity sets the change rule ${rule} from ${from} to ${to}`);
  }
  const baseIgnored = new Set(base.diff.ignore.map((i) => i.fingerprint));
  const headIgnored = new Set(head.diff.ignore.map((i) => i.fingerprint));
  head.diff.ignore.forEach((i, n) => {
    if (!baseIgnored.has(i.fingerprint)) move(true, `/diff/ignore/${n}`, `diff.ignore now accepts the change ${i.fingerprint}`);
  });
  for (const fp of baseIgnored) if (!headIgnored.has(fp)) move(false, "/diff/ignore", `diff.ignore no longer accepts the change ${fp}`);
  if (base.diff.allowBreakingOnMajorVersion !== head.diff.allowBreakingOnMajorVersion) {
    move(head.diff.allowBreakingOnMajorVersion, "/diff/allowBreakingOnMajorVersion", `diff.allowBreakingOnMajorVersion went from ${base.diff.allowBreakingOnMajorVersion} to ${head.diff.allowBreakingOnMajorVersion}`);
  }
  if (base.production.requireApproval !== head.production.requireApproval) {
    move(!head.production.requireApproval, "/production/requireApproval", `production.requireApproval went from ${base.production.requireApproval} to ${head.production.requireApproval}`);
  }
  if (base.production.branch !== head.production.branch) {
    // Another branch deploys to production from then on: its protection rules are not reviewed here.
    move(true, "/production/branch", `production.branch went from ${base.production.branch ?? "the default branch"} to ${head.production.branch ?? "the default branch"}`);
  }
  for (const stage of base.stages) if (!head.stages.includes(stage)) move(true, "/stages", `stages no longer lists ${stage}: production is reached without it`);
  for (const stage of head.stages) if (!base.stages.includes(stage)) move(false, "/stages", `stages now lists ${stage}`);
  if (base.checks.breaking !== head.checks.breaking) {
    move(head.checks.breaking === "neutral", "/checks/breaking", `checks.breaking went from ${base.checks.breaking} to ${head.checks.breaking}`);
  }
  if (base.approvals.permission !== head.approvals.permission) {
    const lower = rank(APPROVAL_PERMISSIONS, head.approvals.permission) < rank(APPROVAL_PERMISSIONS, base.approvals.permission);
    move(lower, "/approvals/permission", `approvals.permission went from ${base.approvals.permission} to ${head.approvals.permission}`);
  }
  if (base.previews.forks !== head.previews.forks) {
    const opened = rank(FORK_POLICIES, head.previews.forks) > rank(FORK_POLICIES, base.previews.forks);
    move(opened, "/previews/forks", `previews.forks went from ${base.previews.forks} to ${head.previews.forks}`);
  }
  if (base.previews.inherit !== head.previews.inherit) {
    // Previews get the values (secrets included) of the environment they inherit from.
    move(head.previews.inherit !== undefined, "/previews/inherit", `previews.inherit went from ${base.previews.inherit ?? "none"} to ${head.previews.inherit ?? "none"}`);
  }
  const [bs, hs] = [base.previews.smoke, head.previews.smoke];
  if (bs.enabled !== hs.enabled) {
    // Without it, a preview that answers against its description is no longer told.
    move(!hs.enabled, "/previews/smoke", `previews.smoke went from ${bs.enabled ? "on" : "off"} to ${hs.enabled ? "on" : "off"}`);
  } else if (hs.enabled && bs.unsafe !== hs.unsafe) {
    // Previews then send POST, PUT, DELETE... with the description's examples to their upstreams.
    move(hs.unsafe, "/previews/smoke/unsafe", `previews.smoke.unsafe went from ${bs.unsafe} to ${hs.unsafe}`);
  }
  return moves;
}

/** The gate moves as changes at their lines in `.github/gitway.yml`: loosening is breaking, tightening info. */
export function diffSettings(sink: ChangeSink, base: GatewayConfig, head: GatewayConfig): void {
  const at = (config: GatewayConfig, pointer: string): Location | undefined => (config.docs.has(SETTINGS_PATH) ? { file: SETTINGS_PATH, pointer } : undefined);
  for (const m of settingsGateMoves(base.settings, head.settings)) {
    sink.add(m.loosens ? "settings-gate-loosened" : "settings-gate-tightened", undefined, m.message, at(base, m.pointer), at(head, m.pointer));
  }
}
