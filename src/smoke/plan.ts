import { isObject, joinPointer, type DocumentSet, type GatewayConfig, type JsonObject, type Operation, type Parameter, type Route, type SmokeSettings } from "../config/index.js";

/** RFC 9110's safe methods: replaying them changes nothing upstream, so a smoke test may send them unasked. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** One request of a smoke test, built from the description alone; the key is filled in when it is sent. */
export interface SmokeRequest {
  /** The operationId, or the method and path template. */
  operation: string;
  method: string;
  /** Path with the examples filled in, and the query string. */
  path: string;
  headers: Record<string, string>;
  /** JSON text of the request body's example. */
  body?: string;
  /** The route asks for an API key: the smoke test's key goes in this header, after the scheme. */
  key?: { header: string; scheme: string };
  /** The operation the answer is judged against. */
  op: Operation;
}

/** An operation the smoke test does not call, and why. */
export interface SmokeSkip {
  operation: string;
  reason: string;
}

export interface SmokePlan {
  requests: SmokeRequest[];
  skipped: SmokeSkip[];
  /** Some request needs an API key: one is minted for the test and revoked after. */
  needsKey: boolean;
}

/** "listOrders (GET /v1/orders)" reads best in a table; without an operationId, the method and path. */
export function operationName(op: Operation): string {
  const route = `${op.method.toUpperCase()} ${op.path}`;
  return op.operationId ? `${op.operationId} (${route})` : route;
}

/**
 * The requests a preview's smoke test sends: one per served operation that has an example for
 * each required parameter and for a required body, or needs none. Unsafe methods are left out
 * unless the trusted settings allow them, and at most `maxRequests` are planned.
 */
export function planSmoke(config: GatewayConfig, settings: Pick<SmokeSettings, "maxRequests" | "unsafe">): SmokePlan {
  const requests: SmokeRequest[] = [];
  const skipped: SmokeSkip[] = [];
  for (const route of config.routes) {
    const operation = operationName(route.operation);
    const built = requestOf(config, route, settings.unsafe);
    if ("reason" in built) skipped.push({ operation, reason: built.reason });
    else if (requests.length >= settings.maxRequests) skipped.push({ operation, reason: `over the limit of ${settings.maxRequests} requests (previews.smoke.maxRequests)` });
    else requests.push({ operation, ...built });
  }
  return { requests, skipped, needsKey: requests.some((r) => r.key !== undefined) };
}

function requestOf(config: GatewayConfig, route: Route, unsafe: boolean): Omit<SmokeRequest, "operation"> | { reason: string } {
  const op = route.operation;
  const method = op.method.toUpperCase();
  if (!unsafe && !SAFE_METHODS.has(method)) return { reason: `${method} is not a safe method (previews.smoke.unsafe: true replays it)` };
  const auth = credentialOf(config, route);
  if (auth && "reason" in auth) return auth;

  let path = op.path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const p of op.parameters) {
    if (!p.required) continue;
    const example = parameterExample(config.docs, p);
    if (example === undefined) return { reason: `no example for the required ${p.in} parameter "${p.name}"` };
    const values = Array.isArray(example) ? example.map(String) : isObject(example) ? undefined : [String(example)];
    if (!values) return { reason: `the example of the ${p.in} parameter "${p.name}" is an object, which the smoke test does not serialize` };
    if (p.in === "path") path = path.split(`{${p.name}}`).join(values.map(encodeURIComponent).join(","));
    else if (p.in === "query") for (const v of values) query.append(p.name, v);
    else if (p.in === "header") headers[p.name.toLowerCase()] = values.join(",");
    else if (p.in === "cookie") cookies.push(`${p.name}=${encodeURIComponent(values.join(","))}`);
  }
  if (cookies.length > 0) headers.cookie = cookies.join("; ");
  const search = query.toString();
  const request: Omit<SmokeRequest, "operation"> = { method, path: search ? `${path}?${search}` : path, headers, op, ...(auth ? { key: auth } : {}) };

  const body = requestBodyOf(config.docs, op);
  if (body && "reason" in body) return body;
  if (body) {
    request.body = JSON.stringify(body.example);
    request.headers["content-type"] = body.type;
  }
  return request;
}

/** The API key a route asks for (header and scheme), or why the smoke test cannot call it. */
function credentialOf(config: GatewayConfig, route: Route): { header: string; scheme: string } | { reason: string } | undefined {
  const policies = new Map(config.policies.map((p) => [p.name, p]));
  let key: { header: string; scheme: string } | undefined;
  for (const name of route.inbound) {
    const policy = policies.get(name);
    if (policy?.policyType === "basic-auth-inbound") return { reason: "the route asks for basic-auth credentials, which the smoke test does not hold" };
    if (policy?.policyType === "api-key-inbound") {
      const o = policy.options;
      key = { header: typeof o.authHeader === "string" ? o.authHeader.toLowerCase() : "authorization", scheme: typeof o.authScheme === "string" ? o.authScheme : "Bearer" };
    }
  }
  return key;
}

/** A parameter's example: its own `example` or first `examples` entry, else its schema's. */
function parameterExample(docs: DocumentSet, p: Parameter): unknown {
  const own = exampleOf(docs, p.value, p.location);
  if (own !== undefined) return own;
  const schema = docs.deref(p.value.schema, { file: p.location.file, pointer: joinPointer(p.location.pointer, "schema") });
  return schema && isObject(schema.value) ? schemaExample(schema.value) : undefined;
}

/** `example`, or the value of the first entry of `examples` (Example Objects, $refs followed). */
function exampleOf(docs: DocumentSet, node: JsonObject, location: { file: string; pointer: string }): unknown {
  if (node.example !== undefined) return node.example;
  if (!isObject(node.examples)) return undefined;
  const [name, first] = Object.entries(node.examples)[0] ?? [];
  if (name === undefined) return undefined;
  const example = docs.deref(first, { file: location.file, pointer: joinPointer(location.pointer, "examples", name) });
  return example && isObject(example.value) ? example.value.value : undefined;
}

/** A schema's own example: `example` (3.0) or the first of `examples` (JSON Schema, 3.1). */
function schemaExample(schema: JsonObject): unknown {
  if (schema.example !== undefined) return schema.example;
  return Array.isArray(schema.examples) ? schema.examples[0] : undefined;
}

/** The JSON example of a required request body; undefined when no body is needed. */
function requestBodyOf(docs: DocumentSet, op: Operation): { type: string; example: unknown } | { reason: string } | undefined {
  if (op.value.requestBody === undefined) return undefined;
  const rb = docs.deref(op.value.requestBody, { file: op.location.file, pointer: joinPointer(op.location.pointer, "requestBody") });
  if (!rb || !isObject(rb.value) || rb.value.required !== true) return undefined;
  const content = isObject(rb.value.content) ? rb.value.content : {};
  const type = Object.keys(content).find((t) => /^application\/(.+\+)?json/i.test(t));
  const media = type ? content[type] : undefined;
  if (!type || !isObject(media)) return { reason: "the required request body has no JSON media type to send an example of" };
  const at = { file: rb.location.file, pointer: joinPointer(rb.location.pointer, "content", type) };
  let example = exampleOf(docs, media, at);
  if (example === undefined) {
    const schema = docs.deref(media.schema, { file: at.file, pointer: joinPointer(at.pointer, "schema") });
    example = schema && isObject(schema.value) ? schemaExample(schema.value) : undefined;
  }
  return example === undefined ? { reason: "no example for the required request body" } : { type, example };
}
