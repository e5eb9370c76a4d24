import { parse } from "yaml";

/** One Git repository the embedded mode keeps in sync: its branches are environments. */
export interface GitSource {
  /** A URL or local path `git` can read. */
  remote: string;
  owner: string;
  name: string;
  /** Production follows this branch; default: the remote's HEAD. */
  productionBranch: string | undefined;
  /** Stage environment name -> the branch it follows. */
  stages: Record<string, string>;
  /** Report drift and new commits without deploying. */
  reportOnly: boolean;
  /** Other branches get `branch-<slug>` previews (default true). */
  previews: boolean;
}

export class SourcesError extends Error {
  readonly code = "SOURCES_INVALID";
}

/** `https://git.example.com/acme/shop.git` -> acme/shop; `/srv/git/shop` -> local/shop. */
export function sourceName(remote: string): { owner: string; name: string } {
  const clean = remote.replace(/\/+$/, "").replace(/\.git$/, "");
  const parts = clean.split(/[/:]/).filter(Boolean);
  const name = parts.at(-1) ?? "repo";
  const isUrl = /^[a-z+]+:\/\//i.test(remote) || /^[^/]+@[^:]+:/.test(remote);
  const owner = isUrl && parts.length >= 2 ? parts.at(-2)! : "local";
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "repo";
  return { owner: slug(owner), name: slug(name) };
}

/** GITWAY_REPOS: comma-separated remotes, each with defaults. */
export function sourcesFromList(list: string): GitSource[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((remote) => ({ remote, ...sourceName(remote), productionBranch: undefined, stages: {}, reportOnly: false, previews: true }));
}

/**
 * gitway.sources.yml:
 *   sources:
 *     - url: https://git.example.com/acme/shop.git
 *       name: acme/shop            # optional
 *       productionBranch: main     # optional, default the remote's HEAD
 *       stages: { staging: develop }
 *       reportOnly: false
 *       previews: true
 */
export function sourcesFromYaml(text: string, file: string): GitSource[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new SourcesError(`${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const list = (doc as { sources?: unknown })?.sources;
  if (!Array.isArray(list) || list.length === 0) throw new SourcesError(`${file}: expected "sources:" with a list of repositories`);
  const known = new Set(["url", "name", "productionBranch", "stages", "reportOnly", "previews"]);
  return list.map((raw, i) => {
    const at = `${file}: sources[${i}]`;
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new SourcesError(`${at} must be a mapping`);
    const s = raw as Record<string, unknown>;
    for (const key of Object.keys(s)) if (!known.has(key)) throw new SourcesError(`${at}.${key} is not a setting (known: ${[...known].join(", ")})`);
    if (typeof s.url !== "string" || s.url === "") throw new SourcesError(`${at}.url must be a Git URL or path`);
    let id = sourceName(s.url);
    if (s.name !== undefined) {
      if (typeof s.name !== "string" || !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(s.name)) throw new SourcesError(`${at}.name must be owner/name in lower case letters, digits and dashes`);
      const [owner, name] = s.name.split("/");
      id = { owner: owner!, name: name! };
    }
    if (s.productionBranch !== undefined && (typeof s.productionBranch !== "string" || s.productionBranch === "")) throw new SourcesError(`${at}.productionBranch must be a branch name`);
    const stages = s.stages ?? {};
    if (typeof stages !== "object" || Array.isArray(stages) || Object.entries(stages as object).some(([k, v]) => !/^(?!pr-|branch-|production$)[a-z][a-z0-9-]{0,30}$/.test(k) || typeof v !== "string")) {
      throw new SourcesError(`${at}.stages must map stage names (like staging) to branch names`);
    }
    for (const key of ["reportOnly", "previews"]) if (s[key] !== undefined && typeof s[key] !== "boolean") throw new SourcesError(`${at}.${key} must be true or false`);
    return { remote: s.url, ...id, productionBranch: s.productionBranch as string | undefined, stages: stages as Record<string, string>, reportOnly: s.reportOnly === true, previews: s.previews !== false };
  });
}
