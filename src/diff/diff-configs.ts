import type { GatewayConfig, RepoSettings } from "../config/index.js";
import { sortChanges, summarize, type Change, type ChangeReport } from "./change.js";
import { ChangeSink } from "./emit.js";
import { diffGateway } from "./gateway-diff.js";
import { diffDocumentLevel, diffOperationSets, diffSecurity, type Sides } from "./operation-diff.js";
import { SchemaDiffer } from "./schema-diff.js";
import { diffSettings } from "./settings-check.js";

export interface DiffOptions {
  /**
   * The settings that decide overrides and accepted changes: the trusted side's when a change is
   * judged (the pipeline passes them); the head's by default (the CLI, comparing two trees).
   */
  settings?: RepoSettings;
  /**
   * Report how the head's `.github/gitway.yml` moves the gates (settings-gate-loosened/-tightened).
   * The pipeline turns it on, since it judges the head by trusted settings; off by default, as in
   * the CLI, which judges a tree by its own settings and would leave no way to accept the change.
   */
  settingsChanges?: boolean;
  /** For x-sunset comparisons; a parameter so the function stays pure. */
  now?: number;
  /**
   * Report a change in a shared component once per operation that reaches it (the view before
   * changes were grouped at their source). Default false: one change with its `affected` list.
   */
  perOperation?: boolean;
}

/**
 * The change report from base to head: contract changes a consumer can feel, then what the
 * gateway enforces (auth, limits, CORS, upstreams). Pure: two configs in, a report out.
 */
export function diffConfigs(base: GatewayConfig, head: GatewayConfig, options: DiffOptions = {}): ChangeReport {
  const sink = new ChangeSink(base.docs, head.docs, options.perOperation ?? false);
  const sides: Sides = { base: base.docs, head: head.docs, schemas: new SchemaDiffer(base.docs, head.docs), sink };
  const matched = diffOperationSets(sides, base.operations, head.operations, options.now ?? Date.now());
  const baseDoc = base.documents[0];
  const headDoc = head.documents[0];
  if (baseDoc && headDoc) {
    diffDocumentLevel(sides, baseDoc.file, headDoc.file);
    diffSecurity(sides, base.docs.get(baseDoc.file)?.value, head.docs.get(headDoc.file)?.value, matched.values());
  }
  diffGateway(sink, base, head);
  if (options.settingsChanges) diffSettings(sink, base, head);
  const changes = applySettings(foldServerUpstream(sink.changes), base, head, options.settings ?? head.settings);
  return { changes: sortChanges(changes), summary: summarize(changes) };
}

/**
 * In a plain OpenAPI document servers[0].url is also every route's upstream: its change is one
 * entry, servers-changed, listing the routes that now forward elsewhere (not a second entry).
 */
function foldServerUpstream(changes: Change[]): Change[] {
  const servers = changes.find((c) => c.rule === "servers-changed");
  const upstream = changes.find((c) => c.rule === "route-upstream-changed" && c.base?.pointer === "/servers/0/url" && c.head?.pointer === "/servers/0/url");
  if (!servers || !upstream) return changes;
  servers.affected = upstream.affected;
  servers.message += `; ${upstream.message} for ${upstream.affected?.length ?? 1} route${upstream.affected?.length === 1 ? "" : "s"}`;
  return changes.filter((c) => c !== upstream);
}

function major(version: string | undefined): number | undefined {
  const m = /^v?(\d+)/.exec(version ?? "");
  return m ? Number(m[1]) : undefined;
}

/** Severity overrides, accepted fingerprints, and breaking changes allowed by a major version bump. */
function applySettings(changes: Change[], base: GatewayConfig, head: GatewayConfig, settings: RepoSettings): Change[] {
  const ignored = new Map(settings.diff.ignore.map((i) => [i.fingerprint, i.reason]));
  const bMajor = major(base.documents[0]?.apiVersion);
  const hMajor = major(head.documents[0]?.apiVersion);
  const majorBump = settings.diff.allowBreakingOnMajorVersion && bMajor !== undefined && hMajor !== undefined && hMajor > bMajor;
  const out: Change[] = [];
  for (const c of changes) {
    const override = settings.diff.severity[c.rule];
    if (override === "off") continue;
    const change = override ? { ...c, level: override } : c;
    const reason = ignored.get(c.fingerprint);
    if (reason !== undefined) change.accepted = { reason };
    else if (majorBump && change.level === "breaking" && change.category === "contract") {
      change.accepted = { reason: `info.version went from ${base.documents[0]!.apiVersion} to ${head.documents[0]!.apiVersion} (a new major version)` };
    }
    out.push(change);
  }
  return out;
}
