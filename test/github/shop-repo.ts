import { apiKeyPolicy, forward, policiesFile, route, routesFile, type RouteSpec } from "../config/fixtures/seed.js";

/**
 * The test repository's gateway config: orders behind an API key, products open, both forwarded
 * to the test's upstream. Each test changes one thing.
 */
export interface ShopOptions {
  upstream: string;
  /** GET /api/v1/products, open to anyone. */
  products?: boolean;
  /** Orders without the API key (a security loosening). */
  ordersOpen?: boolean;
  /** Remove GET /api/v1/orders (a breaking contract change). */
  withoutOrders?: boolean;
  extraRoutes?: RouteSpec[];
  extraPolicies?: unknown[];
  /** Policies on the products route. */
  productsInbound?: string[];
  settings?: string;
}

export function shopFiles(o: ShopOptions): Record<string, string> {
  const routes: RouteSpec[] = [];
  if (!o.withoutOrders) routes.push({ path: "/api/v1/orders", operationId: "listOrders", route: route(o.ordersOpen ? [] : ["api-key-inbound"], forward(o.upstream)) });
  if (o.products) routes.push({ path: "/api/v1/products", operationId: "listProducts", route: route(o.productsInbound ?? [], forward(o.upstream)) });
  routes.push(...(o.extraRoutes ?? []));
  return {
    "config/routes.oas.json": routesFile(routes),
    "config/policies.json": policiesFile([apiKeyPolicy(), ...(o.extraPolicies ?? [])]),
    "README.md": "# shop\n",
    ...(o.settings ? { ".github/gitway.yml": o.settings } : {}),
  };
}
