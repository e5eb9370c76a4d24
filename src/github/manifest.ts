import { parse } from "yaml";

/** The API root of github.com, and GitHub Enterprise Server's under its host. */
export const GITHUB_API = "https://api.github.com";
export const WEBHOOK_PATH = "/api/github/webhooks";
export const MANIFEST_CALLBACK_PATH = "/github/callback";

/**
 * Where GitHub's web pages are for an API root: github.com for api.github.com, the host itself for
 * GitHub Enterprise Server (https://ghe.example.com/api/v3 -> https://ghe.example.com).
 */
export function webUrlOf(apiUrl: string): string {
  return apiUrl === GITHUB_API ? "https://github.com" : apiUrl.replace(/\/api\/v3\/?$/, "");
}

/**
 * The API root for what a maintainer typed as their GitHub Enterprise Server ("ghe.example.com",
 * or a URL with http(s)); empty means github.com. Undefined when it is not a host.
 */
export function apiUrlFor(enterprise: string): string | undefined {
  const text = enterprise.trim().replace(/\/+$/, "");
  if (text === "") return GITHUB_API;
  const m = /^(?:(https?):\/\/)?([A-Za-z0-9.-]+(?::\d{1,5})?)$/.exec(text);
  return m ? `${m[1] ?? "https"}://${m[2]}/api/v3` : undefined;
}

/**
 * The manifest GitHub registers the app from: app.yml's name, permissions and events, with the
 * webhook and the redirect pointing at where this Gitway is reachable.
 */
export function appManifest(appYml: string, publicUrl: URL, name: string): Record<string, unknown> {
  const base = parse(appYml) as Record<string, unknown>;
  const root = publicUrl.href.replace(/\/+$/, "");
  return {
    ...base,
    name,
    url: base.url ?? root,
    hook_attributes: { url: root + WEBHOOK_PATH, active: true },
    redirect_url: root + MANIFEST_CALLBACK_PATH,
    public: false,
  };
}

/** What GitHub answers when a manifest code is converted (the fields Gitway keeps). */
export interface ConvertedApp {
  id: number;
  slug: string;
  name: string;
  html_url: string;
  client_id: string;
  client_secret: string;
  webhook_secret: string;
  pem: string;
}

export class ManifestError extends Error {
  override name = "ManifestError";
}

/**
 * POST /app-manifests/{code}/conversions: GitHub answers the new app with its key and secrets.
 * The code is good once and for an hour; the call has a timeout like every outbound one.
 */
export async function convertManifestCode(apiUrl: string, code: string, timeoutMs = 10_000): Promise<ConvertedApp> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(code)) throw new ManifestError("the code GitHub sent back is not one it issues");
  let res: Response;
  try {
    res = await fetch(`${apiUrl}/app-manifests/${code}/conversions`, {
      method: "POST",
      headers: { accept: "application/vnd.github+json", "user-agent": "gitway", "x-github-api-version": "2022-11-28" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new ManifestError(`GitHub at ${apiUrl} did not answer the conversion (${(e as Error).name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : (e as Error).message})`);
  }
  if (res.status !== 201 && res.status !== 200) throw new ManifestError(`GitHub refused the code (HTTP ${res.status}): it is good once, for an hour; start again from the Connect GitHub page`);
  const body = (await res.json()) as Partial<ConvertedApp>;
  for (const field of ["id", "slug", "html_url", "client_id", "client_secret", "webhook_secret", "pem"] as const) {
    if (body[field] === undefined || body[field] === null || body[field] === "") throw new ManifestError(`GitHub's answer has no ${field}`);
  }
  return { ...(body as ConvertedApp), id: Number(body.id), name: body.name ?? body.slug! };
}
