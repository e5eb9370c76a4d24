import { createHash } from "node:crypto";

/**
 * The one DNS label of an environment: `<owner>-<repo>-<env>`, lower-case, with anything but
 * letters and digits folded to "-". Over 63 characters, it is cut and given a hash suffix, so two
 * long names never share a label.
 */
export function environmentLabel(owner: string, repo: string, env: string): string {
  const slug = `${owner}-${repo}-${env}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (slug.length <= 63) return slug;
  const hash = createHash("sha256").update(slug).digest("hex").slice(0, 8);
  return `${slug.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

/** The base domain prepared once (lower case, with and without its port) for per-request lookups. */
export interface BaseDomain {
  suffix: string;
  suffixNoPort: string;
}

export function baseDomain(domain: string): BaseDomain {
  const base = domain.toLowerCase();
  return { suffix: "." + base, suffixNoPort: "." + base.replace(/:\d+$/, "") };
}

/** "acme-shop-pr-12.localhost:8787" -> "acme-shop-pr-12", when the host is under the base domain. */
export function labelOfHost(host: string | undefined, base: BaseDomain | string): string | undefined {
  if (!host) return undefined;
  const b = typeof base === "string" ? baseDomain(base) : base;
  const h = host.toLowerCase();
  if (h.endsWith(b.suffix)) return h.slice(0, -b.suffix.length);
  // The base domain may carry a port that the Host header omits (port 80/443), and the reverse.
  const hostNoPort = h.replace(/:\d+$/, "");
  return hostNoPort.endsWith(b.suffixNoPort) ? hostNoPort.slice(0, -b.suffixNoPort.length) : undefined;
}
