import { jsonText, NginxRenderError } from "./nginx-text.js";

/**
 * What the rendered configuration answers itself, as the Node gateway does (src/gateway/problem.ts,
 * server.ts): problem+json bodies with the same statuses, the headers every answer carries, and the
 * hand-over of a route to the Node gateway.
 */

/** A problem+json body as src/gateway/problem.ts writes it; `detail` is nginx text (it may hold `$gw_path`). */
export function problemBody(status: number, type: string, title: string, detail: string, instance = "$gw_path"): string {
  return `'{"type":"https://gitway.dev/problems/${type}","title":"${jsonText(title)}","status":${status},"detail":"${detail}","instance":"${instance}","trace":{"requestId":"$gw_request_id"}}'`;
}

/** The headers every answer carries: the request id and, when the route's CORS policy allows the origin, its headers. */
export const COMMON_HEADERS = [
  "add_header X-Request-Id $gw_request_id always;",
  "add_header Access-Control-Allow-Origin $gw_acao always;",
  "add_header Access-Control-Allow-Credentials $gw_acac always;",
  "add_header Access-Control-Expose-Headers $gw_aceh always;",
  "add_header Vary $gw_vary always;",
];

// nginx refuses a bad request line before it has a URI, and a named location needs one: 400 and 431 go to internal URIs.
// The other errors share one location whose njs answer follows $status: one location per server, not
// one per status, keeps a thousand environments' configuration quick for nginx to load.
export const ERROR_PAGES = ["error_page 400 /__gitway_400;", "error_page 494 =431 /__gitway_431;", "error_page 413 429 502 504 /__gitway_error;", "error_page 418 = @gw_preflight;"];

/**
 * The variables routes set and every location reads. nginx knows a variable only once some `set`
 * names it; these sets sit in a location no request reaches, because a server-level `set` would
 * run again on the internal redirect to an error page and wipe what the route had set.
 */
export const DECLARED_VARIABLES = ['set $gw_allow "";', 'set $gw_consumer "";', 'set $gw_www "";', 'set $gw_acao "";', 'set $gw_acac "";', 'set $gw_aceh "";', 'set $gw_vary "";', 'set $gw_retry_after "";', 'set $gw_location "";'];

/** The gateway's own answers for what nginx refuses or fails at, as problem+json with the route's CORS headers. */
export const SERVER_ERRORS = [
  ["/__gitway_400", 400, "bad-path", "Bad Request", "The request path is not valid (it climbs above the root or is badly encoded)", "/"],
  ["/__gitway_431", 431, "headers-too-large", "Request Header Fields Too Large", "The request headers are too large", "/"],
].flatMap(([name, status, type, title, detail, instance]) => [
  `location = ${name} {`,
  "  internal;",
  ...COMMON_HEADERS.map((h) => "  " + h),
  `  return ${status} ${problemBody(status as number, type as string, title as string, detail as string, instance as string | undefined)};`,
  "}",
]).concat(["location = /__gitway_error {", "  internal;", "  js_content gitway.errorPage;", "}", "location @gw_preflight {", "  js_content gitway.preflight;", "}"]);

/** A route (or a preflight) the Node gateway answers: proxied whole, the Host kept (it picks the environment) and the request id passed on. */
export function nodeProxy(input: { nodeGatewayUrl: string; nodeClientAddressHeader?: string }): string[] {
  const node = new URL(input.nodeGatewayUrl);
  const header = input.nodeClientAddressHeader;
  if (header !== undefined && !/^[A-Za-z0-9-]+$/.test(header)) throw new NginxRenderError(`nodeClientAddressHeader ${JSON.stringify(header)} is not a header name`);
  return [
    // Set on every handed-over request, so a caller's own header of that name never reaches the Node gateway.
    ...(header ? [`proxy_set_header ${header} $remote_addr;`] : []),
    "add_header X-Request-Id $gw_request_id always;",
    "proxy_hide_header X-Request-Id;",
    "proxy_http_version 1.1;",
    'proxy_set_header Connection "";',
    "proxy_set_header Host $http_host;",
    "proxy_set_header X-Request-Id $gw_request_id;",
    `proxy_pass ${node.protocol}//${node.host};`,
  ];
}

