/**
 * The njs module the rendered configuration imports (njs 0.7, Debian's libnginx-mod-http-js). It
 * holds only what nginx's own directives cannot do: the request path as the Node gateway reports
 * it (normalised, still percent-encoded, JSON-escaped for problem bodies), SHA-256 of a presented
 * API key or basic-auth pair (so no key or password is ever written in clear), and the CORS
 * preflight answer. Every function is reached through `js_set` (lazily, only when a directive reads
 * the variable) or `js_content`, so a request that needs none of it never enters njs.
 *
 * njs 0.7 clones its VM for every request that calls into it and runs the module's top level
 * again: each top-level function and exported name costs every such request (callgrind: about
 * 300 and 470 instructions apiece). The hot path (an api-key request) calls only its key reader,
 * so the top level holds the key readers and three entry points (`pathJson`, `basicHash`,
 * `fallback`, which also answers the error page); each builds its helpers inside, on the rare
 * requests (errors, preflights, basic auth) that call it.
 */

/** How one api-key policy finds the key: which header and which scheme prefix. */
export interface KeyExtractor {
  /** The exported function's name. */
  fn: string;
  header: string;
  scheme: string;
  /**
   * The nginx variable (without `$`) holding the key already taken out of its header (scheme and
   * surrounding blanks removed, by a `map` regex in nginx, cheaper than string work in njs); absent
   * when the header's name cannot be an nginx variable, and the reader parses the header itself.
   */
  variable?: string;
}

export interface PreflightPolicy {
  /** Origin patterns as regex sources (case-insensitive); "*" allows any. */
  origins: string[];
  any: boolean;
  credentials: boolean;
  methods: string[] | "*";
  headers: string[] | "*";
  maxAge: number | undefined;
}

export interface NjsInput {
  keyExtractors: KeyExtractor[];
  /** The gateway's body cap: the 413 detail of a route with no size limit of its own. */
  maxBodyBytes: number;
}

// The cold entry points' helpers (see the module comment): the path, basic auth, the error page and fallback.
const PATH = String.raw`/* The same normalisation as src/gateway/path-match.ts normalizePath: unreserved escapes decoded,
   repeated slashes folded, dot segments resolved; encoded slashes stay encoded. */
function normalizedPath(raw) {
  var q = raw.indexOf('?');
  if (q !== -1) raw = raw.slice(0, q);
  if (raw.charCodeAt(0) === 47 && !/%|\/\/|\/\.|\\/.test(raw)) return raw;
  var p;
  try {
    p = raw.replace(/%(2[dDeE]|5[fF]|7[eE]|[46][1-9a-fA-F]|[57][0-9aA]|3[0-9])/g, function (m) { return decodeURIComponent(m); });
  } catch (e) {
    return undefined;
  }
  if (p.charAt(0) !== '/') return undefined;
  var out = [];
  var segs = p.split('/').slice(1);
  for (var i = 0; i < segs.length; i++) {
    var seg = segs[i];
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  var trailing = p.length > 1 && p.charAt(p.length - 1) === '/' && out.length > 0 ? '/' : '';
  return '/' + out.join('/') + trailing;
}

/* The path for a problem body's "instance" and "detail", already escaped for a JSON string. */
function pathJsonOf(r) {
  var p = normalizedPath(r.variables.request_uri || '/');
  return JSON.stringify(p === undefined ? '/' : p).slice(1, -1);
}
`;

const BASIC = String.raw`function sha(s) {
  return crypto.createHash('sha256').update(s).digest('hex');
}


/* "-" without Basic credentials, else the hash of "user:password" the rendered map looks up. */
function basicHashOf(r) {
  var v = r.headersIn.Authorization;
  if (v === undefined || v.toLowerCase().slice(0, 6) !== 'basic ') return '-';
  var decoded;
  try {
    decoded = Buffer.from(v.slice(6).trim(), 'base64').toString();
  } catch (e) {
    return '-';
  }
  var colon = decoded.indexOf(':');
  var user = colon === -1 ? decoded : decoded.slice(0, colon);
  var pass = colon === -1 ? '' : decoded.slice(colon + 1);
  return sha('gitway-basic:' + user + ':' + pass);
}
`;

const FALLBACK = String.raw`function problem(r, status, type, title, detail, instance) {
  var id = r.variables.gw_request_id;
  r.headersOut['Content-Type'] = 'application/problem+json';
  r.headersOut['X-Request-Id'] = id;
  r.return(status, JSON.stringify({ type: 'https://gitway.dev/problems/' + type, title: title, status: status, detail: detail, instance: instance === undefined ? JSON.parse('"' + pathJson(r) + '"') : instance, trace: { requestId: id } }));
}

function allows(c, origin) {
  if (c.any) return true;
  for (var i = 0; i < c.origins.length; i++) if (new RegExp(c.origins[i], 'i').test(origin)) return true;
  return false;
}

function errorPage(r) {
  /* A preflight comes here by "error_page 418 = /__gitway_error?preflight=1", its table in $gw_cors_table. */
  if (r.args.preflight !== undefined) return preflight(r);
  /* The errors nginx answers itself, as the Node gateway answers them, with the headers the route set up
     (CORS, Retry-After) in variables before nginx handed the error here. 400 and 431 come before nginx
     has a path it can trust: their instance is "/". */
  var ERRORS = {
    400: ['bad-path', 'Bad Request', function () { return 'The request path is not valid (it climbs above the root or is badly encoded)'; }, '/'],
    431: ['headers-too-large', 'Request Header Fields Too Large', function () { return 'The request headers are too large'; }, '/'],
    413: ['payload-too-large', 'Payload Too Large', function (v, r) { return 'The request body is over ' + (r.args.limit || MAX_BODY_BYTES) + ' bytes'; }],
    429: ['too-many-requests', 'Too Many Requests', function (v) { return 'Too many requests; try again in ' + v.gw_retry_after + ' s'; }],
    502: ['upstream-failed', 'Bad Gateway', function () { return 'The upstream could not be reached or failed'; }],
    504: ['upstream-timeout', 'Gateway Timeout', function () { return 'The upstream did not answer in time'; }]
  };
  var v = r.variables;
  var status = Number(v.status);
  var e = ERRORS[status] || ERRORS[502];
  var h = r.headersOut;
  /* $gw_cors names the route's CORS maps: origin, credentials, expose headers, vary ("-" for none). */
  var cors = v.gw_cors ? v.gw_cors.split(' ') : [];
  var of = function (i) { return cors[i] && cors[i] !== '-' ? v[cors[i]] : ''; };
  if (of(0)) {
    h['Access-Control-Allow-Origin'] = of(0);
    h['Vary'] = of(3);
    if (of(1)) h['Access-Control-Allow-Credentials'] = of(1);
    if (of(2)) h['Access-Control-Expose-Headers'] = of(2);
  }
  if (status === 429 && v.gw_retry_after) h['Retry-After'] = v.gw_retry_after;
  problem(r, ERRORS[status] ? status : 502, e[0], e[1], e[2](v, r), e[3]);
}

/* The last location of a server whose every path nginx matches itself: the error pages' URI (reached
   only by nginx's own redirect, which sets $status or, for a preflight, $gw_cors_table), else a path
   no route matches. */
function fallbackOf(r) {
  if (r.uri === '/__gitway_error' && (r.args.preflight !== undefined ? r.variables.gw_cors_table : r.variables.status !== '000')) return errorPage(r);
  problem(r, 404, 'route-not-found', 'Not Found', 'No route matches ' + r.variables.request_method + ' ' + JSON.parse('"' + pathJson(r) + '"'));
}

/* The CORS preflight, as src/gateway/server.ts answers it: 204 with the policy's headers, or 403. */
function preflight(r) {
  var wanted = (r.headersIn['Access-Control-Request-Method'] || '').toUpperCase();
  var origin = r.headersIn.Origin;
  /* The location puts its table (method -> CORS policy) in $gw_cors_table before it hands over. */
  var c = JSON.parse(r.variables.gw_cors_table || '{}')[wanted];
  /* Always an OPTIONS ($gw_preflight is empty otherwise); the redirect here made r.method GET. */
  if (c === undefined || origin === undefined) return problem(r, 404, 'route-not-found', 'Not Found', 'No route matches OPTIONS ' + JSON.parse('"' + pathJson(r) + '"'));
  if (!allows(c, origin) || (c.methods !== '*' && c.methods.indexOf(wanted) === -1)) return problem(r, 403, 'cors-not-allowed', 'Forbidden', "This origin or method is not allowed by the route's CORS policy");
  var h = r.headersOut;
  h['Access-Control-Allow-Origin'] = origin;
  h['Vary'] = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
  h['Access-Control-Allow-Methods'] = c.methods === '*' ? wanted : c.methods.join(', ');
  var asked = r.headersIn['Access-Control-Request-Headers'];
  if (asked) h['Access-Control-Allow-Headers'] = c.headers === '*' ? asked : c.headers.join(', ');
  if (c.credentials) h['Access-Control-Allow-Credentials'] = 'true';
  if (c.maxAge !== undefined) h['Access-Control-Max-Age'] = String(c.maxAge);
  h['X-Request-Id'] = r.variables.gw_request_id;
  h['Content-Length'] = '0';
  r.return(204);
}
`;

/**
 * One key reader per api-key header and scheme, specialised (no per-request arguments or string
 * building): it runs on every request of an api-key route. "-" when no key is presented, else the
 * key's SHA-256, which the environment's map of key hashes turns into a consumer.
 */
function keyReader(k: KeyExtractor): string {
  if (k.variable) return [`function ${k.fn}(r) {`, `  var key = r.variables.${k.variable};`, `  return key ? crypto.createHash('sha256').update(key).digest('hex') : '-';`, `}`].join("\n");
  const prefix = k.scheme === "" ? "" : k.scheme.toLowerCase() + " ";
  return [
    `function ${k.fn}(r) {`,
    `  var v = r.headersIn[${JSON.stringify(k.header)}];`,
    prefix ? `  if (v === undefined || v.slice(0, ${prefix.length}).toLowerCase() !== ${JSON.stringify(prefix)}) return '-';` : `  if (v === undefined) return '-';`,
    `  var key = v.slice(${prefix.length}).trim();`,
    `  return key === '' ? '-' : crypto.createHash('sha256').update(key).digest('hex');`,
    `}`,
  ].join("\n");
}

/** One exported function holding its helpers: `name(r)` declares them, then calls `inner(r)`. */
function entry(name: string, inner: string, body: string, prelude = ""): string {
  return [`function ${name}(r) {`, prelude, body, `return ${inner}(r);`, `}`].filter((l) => l !== "").join("\n");
}

/** The module's text: the key readers and three cold entry points (the path, basic auth, the error page and fallback). */
export function njsScript(input: NjsInput): string {
  const readers = input.keyExtractors.map(keyReader);
  const exported = ["pathJson", "basicHash", "fallback", ...input.keyExtractors.map((k) => k.fn)];
  return [
    "/* Rendered by Gitway (src/nginx/njs-script.ts); do not edit: the next release overwrites it. */",
    "import crypto from 'crypto';",
    entry("pathJson", "pathJsonOf", PATH),
    entry("basicHash", "basicHashOf", BASIC),
    entry("fallback", "fallbackOf", FALLBACK, `var MAX_BODY_BYTES = ${Math.floor(input.maxBodyBytes)};`),
    ...readers,
    `export default { ${exported.join(", ")} };`,
    "",
  ].join("\n");
}
