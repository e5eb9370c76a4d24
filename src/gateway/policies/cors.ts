import { compileLinearPattern, type CorsPolicyDefinition, type PatternTest } from "../../config/index.js";

/** A route's CORS behaviour, compiled once per release. */
export interface Cors {
  allows(origin: string): boolean;
  credentials: boolean;
  methods: string[] | "*";
  headers: string[] | "*";
  expose: string[];
  maxAge: number | undefined;
}

export const ANYTHING_GOES: Cors = { allows: () => true, credentials: true, methods: "*", headers: "*", expose: [], maxAge: 600 };

/** A glob of allowed origins. On RE2: with several `*`, a backtracking engine takes polynomial time in the Origin a client sends. */
function originPattern(glob: string): PatternTest {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*");
  return compileLinearPattern(`^${escaped}$`, { ignoreCase: true });
}

export function compileCors(def: CorsPolicyDefinition): Cors {
  const any = def.allowedOrigins.includes("*");
  const patterns = def.allowedOrigins.filter((o) => o !== "*").map(originPattern);
  return {
    allows: (origin) => any || patterns.some((p) => p.test(origin)),
    credentials: def.allowCredentials,
    methods: def.allowedMethods.map((m) => m.toUpperCase()),
    headers: def.allowedHeaders.includes("*") ? "*" : def.allowedHeaders,
    expose: def.exposeHeaders,
    maxAge: def.maxAge,
  };
}

/** Headers for an actual (non-preflight) response to an allowed origin. */
export function corsResponseHeaders(cors: Cors, origin: string, into: Record<string, string>): void {
  if (!cors.allows(origin)) return;
  into["access-control-allow-origin"] = origin;
  into.vary = "Origin";
  if (cors.credentials) into["access-control-allow-credentials"] = "true";
  if (cors.expose.length > 0) into["access-control-expose-headers"] = cors.expose.join(", ");
}

/** The preflight answer, or undefined when the origin or method is not allowed. */
export function preflightHeaders(cors: Cors, origin: string, method: string, requestHeaders: string | undefined): Record<string, string> | undefined {
  if (!cors.allows(origin)) return undefined;
  if (cors.methods !== "*" && !cors.methods.includes(method)) return undefined;
  const h: Record<string, string> = {
    "access-control-allow-origin": origin,
    vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    "access-control-allow-methods": cors.methods === "*" ? method : cors.methods.join(", "),
  };
  if (requestHeaders) h["access-control-allow-headers"] = cors.headers === "*" ? requestHeaders : cors.headers.join(", ");
  if (cors.credentials) h["access-control-allow-credentials"] = "true";
  if (cors.maxAge !== undefined) h["access-control-max-age"] = String(cors.maxAge);
  return h;
}
