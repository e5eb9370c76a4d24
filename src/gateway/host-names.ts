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

/** "acme-shop-pr-12.localhost:8787" -> "acme-shop-pr-12", when the host is under the base domain. */
export function labelOfHost(host: string | undefined, baseDomain: string): string | undefined {
  if (!host) return undefined;
  const h = host.toLowerCase();
  const base = baseDomain.toLowerCase();
  const suffix = "." + base;
  if (h.endsWith(suffix)) return h.slice(0, -suffix.length);
  // The base domain may carry a port that the Host header omits (port 80/443), and the reverse.
  const hostNoPort = h.replace(/:\d+$/, "");
  const baseNoPort = base.replace(/:\d+$/, "");
  return hostNoPort.endsWith("." + baseNoPort) ? hostNoPort.slice(0, -(baseNoPort.length + 1)) : undefined;
}
