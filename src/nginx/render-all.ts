import type { AgentEnvironment, RenderAll } from "./agent.js";
import { renderNginx } from "./render.js";

export interface EngineLayout {
  /** Where nginx listens (the gateway port). */
  listen: { port: number; address?: string };
  /** The Node gateway: hybrid routes, and hosts nginx does not serve (previews), go there. */
  nodeGatewayUrl: string;
  /** GATEWAY_BASE_DOMAIN: an environment is served at `<label>.<base domain without its port>`. */
  baseDomain: string;
  maxBodyBytes?: number;
  jsModulePath?: string;
}

/** The header nginx tells the Node gateway behind it the caller's address in (the Node gateway believes it from loopback only). */
export const CLIENT_ADDRESS_HEADER = "x-gitway-client-address";

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host name nginx serves an environment at (nginx matches server_name without the port). */
export function environmentHost(label: string, baseDomain: string): string {
  return `${label}.${baseDomain.toLowerCase().replace(/:\d+$/, "")}`;
}

/** The agent's environments as the renderer takes them: one host each, the release's config and values, its consumers. */
export function renderAllWith(layout: EngineLayout): RenderAll {
  return (envs: AgentEnvironment[], usageLog?: string) =>
    renderNginx({
      environments: envs.map((e) => ({ host: environmentHost(e.label, layout.baseDomain), name: e.label, release: { config: e.config, vars: e.values.vars }, consumers: e.values.consumers })),
      nodeGatewayUrl: layout.nodeGatewayUrl,
      listen: layout.listen,
      otherHostsToNode: true,
      // Only a Node gateway on this host believes the header (from a loopback peer); a remote one
      // would judge nginx's address, so the renderer then refuses routes that judge the caller's.
      ...(isLoopback(layout.nodeGatewayUrl) ? { nodeClientAddressHeader: CLIENT_ADDRESS_HEADER } : {}),
      ...(layout.maxBodyBytes !== undefined ? { maxBodyBytes: layout.maxBodyBytes } : {}),
      ...(layout.jsModulePath !== undefined ? { jsModulePath: layout.jsModulePath } : {}),
      ...(usageLog !== undefined ? { usageLog } : {}),
    });
}
