import { apiKeyPolicy, builtinPolicy, forward, policiesFile, route, routesFile, type RouteSpec } from "../config/fixtures/seed.js";

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

/** POST /api/v1/orders with its body checked against the schema: request validation, which nginx leaves to the Node gateway. */
export function validatedOrders(upstream: string): Pick<ShopOptions, "extraRoutes" | "extraPolicies"> {
  const body = { required: true, content: { "application/json": { schema: { type: "object", required: ["sku"], properties: { sku: { type: "string" } } } } } };
  return {
    extraRoutes: [{ path: "/api/v1/orders", method: "post", operationId: "createOrder", requestBody: body, route: route(["validate-body"], forward(upstream)) }],
    extraPolicies: [builtinPolicy("validate-body", "request-validation-inbound", "RequestValidationInboundPolicy", { validateBody: "reject-and-log" })],
  };
}
