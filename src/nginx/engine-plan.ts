import type { GatewayConfig } from "../config/index.js";
import { NginxRenderError } from "./nginx-text.js";
import { renderNginx, type HybridRoute } from "./render.js";

/** What the nginx engine would do with one config: the routes it hands to the Node gateway, or why it cannot serve it. */
export type NginxEnginePlan = { ok: true; hybridRoutes: HybridRoute[] } | { ok: false; reason: string };

/**
 * Renders a config as the agent would, without an environment's stored values: which routes take the
 * hybrid path depends on their policies and handlers, not on values, so every `$env(NAME)` stands in
 * as a loopback URL (valid wherever a value may appear).
 */
export function planNginxEngine(config: GatewayConfig): NginxEnginePlan {
  const vars = new Proxy<Record<string, string>>({}, { get: (_t, name) => (typeof name === "string" ? "http://127.0.0.1:9" : undefined) });
  try {
    const rendered = renderNginx({
      environments: [{ host: "validate.gitway.invalid", name: "validate", release: { config, vars }, consumers: [] }],
      nodeGatewayUrl: "http://127.0.0.1:8787",
      listen: { port: 8080 },
      nodeClientAddressHeader: "x-gitway-client-address",
    });
    return { ok: true, hybridRoutes: rendered.hybridRoutes };
  } catch (e) {
    if (e instanceof NginxRenderError) return { ok: false, reason: e.message };
    throw e;
  }
}
