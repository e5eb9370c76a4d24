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

/** The header every answer carries: the request id (a route with a CORS policy adds that policy's headers). */
export const COMMON_HEADERS = ["add_header X-Request-Id $gw_request_id always;"];

// Every error nginx answers itself goes to one internal location per server, whose njs answer follows
// $status (and a preflight, by its argument): each location costs nginx about 0.1 ms to load, and a
// thousand environments' configuration must load in well under a second. 400 and 431 need a URI
// rather than a named location (nginx refuses a bad request line before it has one), and so does the
// body cap's limit (it rides on the URI's arguments); a URI redirect turns the method into GET, which
// none of these answers read.
export const ERROR_PAGES = ["error_page 400 429 502 504 /__gitway_error;", "error_page 413 /__gitway_error;", "error_page 494 =431 /__gitway_error;", "error_page 418 = /__gitway_error?preflight=1;"];

/** The server's error page, with a route's body cap in the 413 answer's detail. */
export function errorPagesWithLimit(limit: number): string[] {
  return ERROR_PAGES.map((e) => (e === "error_page 413 /__gitway_error;" ? `error_page 413 /__gitway_error?limit=${limit};` : e));
}

/**
 * The variables routes set and every location reads. nginx knows a variable only once some `set`
 * names it; these sets sit in a location no request reaches, because a server-level `set` would
 * run again on the internal redirect to an error page and wipe what the route had set.
 */
export const DECLARED_VARIABLES = ['set $gw_allow "";', 'set $gw_consumer "";', 'set $gw_www "";', 'set $gw_cors "";', 'set $gw_retry_after "";', 'set $gw_location "";'];

/** The gateway's own answers for what nginx refuses or fails at, as problem+json with the route's CORS headers (gitway.js errorPage). */
export const SERVER_ERRORS = ["location = /__gitway_error {", "  internal;", "  js_content gitway.fallback;", "}"];

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

