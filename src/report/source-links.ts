import type { ChangePlace } from "../diff/index.js";

/** Where a repository's files are shown on the web, at a given commit (GitHub or GitHub Enterprise Server). */
export interface RepositoryWeb {
  /** The host's web root: https://github.com, or a GitHub Enterprise Server's https://ghe.example.com. */
  webUrl: string;
  owner: string;
  repo: string;
}

/**
 * A link builder for the report's "Where" column: a place on the head side links to the file and
 * line at the head commit, one on the base side at the base commit (none when there is no base).
 * Pure data in, text out: the renderer does not know where the report is posted.
 */
export function blobLinks(web: RepositoryWeb, commits: { base?: string; head: string }): (place: ChangePlace, side: "base" | "head") => string | undefined {
  const root = `${web.webUrl.replace(/\/+$/, "")}/${encodeURIComponent(web.owner)}/${encodeURIComponent(web.repo)}/blob`;
  return (place, side) => {
    const sha = side === "head" ? commits.head : commits.base;
    if (!sha) return undefined;
    const path = place.file.split("/").map(encodeURIComponent).join("/");
    return `${root}/${sha}/${path}#L${place.line}`;
  };
}
