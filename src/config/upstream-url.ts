import { envNamesIn } from "./env-refs.js";

/**
 * Why a forwarding target cannot be used, or undefined when it can. `$env(...)` parts are
 * filled per environment at deploy time, so they are checked with a stand-in value here.
 */
export function upstreamUrlProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return "must be an absolute http(s) URL such as https://api.example.com";
  const { problems } = envNamesIn(value);
  if (problems.length > 0) return problems[0];
  const probe = value.replace(/\$env\([^)]*\)/g, (m, offset: number) => (offset === 0 && m.length === value.length ? "https://env.invalid" : "env"));
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return `"${value}" is not an absolute URL; write it with its scheme, such as https://${value.replace(/^\/+/, "")}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `"${value}" uses ${url.protocol.slice(0, -1)}; only http and https upstreams are served`;
  if (url.username || url.password) return `"${value}" has credentials in the URL; put them in a header policy with $env(...) instead`;
  if (url.search || url.hash) return `"${value}" has a query or fragment; a base URL is joined with each request's path`;
  return undefined;
}
