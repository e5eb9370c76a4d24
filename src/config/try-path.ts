import type { GatewayConfig } from "./model.js";

/**
 * The path a person can open to see an environment answer: the first GET route whose path has no
 * parameter, else "/". A link to "/" answers 404 whenever no route is served there.
 */
export function tryPath(config: Pick<GatewayConfig, "routes">): string {
  const route = config.routes.find((r) => r.operation.method.toUpperCase() === "GET" && !r.operation.path.includes("{"));
  return route?.operation.path ?? "/";
}
