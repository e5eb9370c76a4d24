/** The configs the gateway benchmark serves, built in memory. */
export function seedFiles(upstream: string, mode: string, variant = 0): Map<string, string> {
  const routes = mode === "seed-100-routes" ? 100 : 1;
  const policies = mode === "forward" ? [] : ["api-key-inbound", "rate-limit-inbound"];
  const paths: Record<string, unknown> = {};
  for (let i = 0; i < routes; i++) {
    // The route under load is the last one added; the others are parameterised neighbours.
    const path = i === routes - 1 ? "/api/v1/orders" : `/api/v1/resource-${i}/{id}/items`;
    paths[path] = {
      get: {
        operationId: `op-${i}`,
        ...(path.includes("{id}") ? { parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }] } : {}),
        responses: { "200": { description: `ok ${variant}` } },
        "x-zuplo-route": {
          corsPolicy: mode === "forward" ? "none" : "anything-goes",
          handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: upstream } },
          policies: { inbound: policies },
        },
      },
    };
  }
  const routesFile = JSON.stringify({ openapi: "3.1.0", info: { title: "bench", version: `1.0.${variant}` }, paths });
  const policiesFile = JSON.stringify({
    policies: [
      { name: "api-key-inbound", policyType: "api-key-inbound", handler: { export: "ApiKeyInboundPolicy", module: "$import(@zuplo/runtime)" } },
      { name: "rate-limit-inbound", policyType: "rate-limit-inbound", handler: { export: "RateLimitInboundPolicy", module: "$import(@zuplo/runtime)", options: { rateLimitBy: "ip", requestsAllowed: 1_000_000_000, timeWindowMinutes: 1 } } },
    ],
  });
  return new Map([
    ["config/routes.oas.json", routesFile],
    ["config/policies.json", policiesFile],
  ]);
}
