import { clip, type Diagnostic } from "./diagnostics.js";
import type { DocumentSet, Location } from "./documents.js";
import { HTTP_METHODS, isObject, type JsonObject, type Operation, type Parameter } from "./model.js";
import { getAtPointer, joinPointer, parsePointer } from "./pointer.js";

/** Every operation of an OpenAPI document, path items and parameters dereferenced. */
export function collectOperations(docs: DocumentSet, file: string): Operation[] {
  const root = docs.get(file)?.value;
  if (!isObject(root) || !isObject(root.paths)) return [];
  const out: Operation[] = [];
  for (const [path, rawItem] of Object.entries(root.paths)) {
    if (!path.startsWith("/")) continue;
    const item = docs.deref(rawItem, { file, pointer: joinPointer("/paths", path) });
    if (!item || !isObject(item.value)) continue;
    const pathItem = item.value;
    const shared = readParameters(docs, pathItem.parameters, item.location);
    for (const method of HTTP_METHODS) {
      const op = pathItem[method];
      if (!isObject(op)) continue;
      const location = { file: item.location.file, pointer: joinPointer(item.location.pointer, method) };
      const own = readParameters(docs, op.parameters, location);
      // Operation-level parameters override path-level ones with the same name and location.
      const merged = [...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)), ...own];
      out.push({
        method,
        path,
        operationId: typeof op.operationId === "string" ? op.operationId : undefined,
        value: op,
        location,
        parameters: merged,
        document: file,
      });
    }
  }
  return out;
}

/** Parameters listed twice in one list: the spec forbids it and a gateway cannot tell which applies. */
export function lintParameterLists(docs: DocumentSet, operations: readonly Operation[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seenLists = new Set<string>();
  for (const op of operations) {
    for (const owner of [op.location, { file: op.location.file, pointer: op.location.pointer.replace(/\/[^/]+$/, "") }]) {
      const key = owner.file + "#" + owner.pointer;
      if (seenLists.has(key)) continue;
      seenLists.add(key);
      const node = owner === op.location ? op.value : docs.deref(getAtPointer(docs.get(owner.file)?.value, parsePointer(owner.pointer) ?? []), owner)?.value;
      if (!isObject(node)) continue;
      const params = readParameters(docs, node.parameters, owner);
      params.forEach((p, i) => {
        if (params.findIndex((q) => q.name === p.name && q.in === p.in) < i) {
          out.push(docs.at("parameter-duplicate", `${operationLabel(op)}: parameter "${clip(p.name)}" in ${p.in} is listed more than once`, { file: p.location.file, pointer: joinPointer(p.location.pointer, "name") }));
        }
      });
    }
  }
  return out;
}

function readParameters(docs: DocumentSet, list: unknown, owner: Location): Parameter[] {
  if (!Array.isArray(list)) return [];
  const out: Parameter[] = [];
  list.forEach((raw, i) => {
    const p = docs.deref(raw, { file: owner.file, pointer: joinPointer(owner.pointer, "parameters", i) });
    if (!p || !isObject(p.value)) return;
    const v: JsonObject = p.value;
    if (typeof v.name !== "string" || typeof v.in !== "string") return;
    out.push({ name: v.name, in: v.in, required: v.required === true, value: v, location: p.location });
  });
  return out;
}

export function operationLabel(op: { method: string; path: string }): string {
  return `${op.method.toUpperCase()} ${clip(op.path)}`;
}

/** RFC 3986 path characters plus {name} templates: anything else can never match a request. */
const PATH_TEMPLATE = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2}|\{[^{}/]+\})*$/;

export function isRoutablePath(path: string): boolean {
  return PATH_TEMPLATE.test(path);
}

const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;

/** The first thing in a path that no request can match, said so a person can find it. */
export function whatIsWrong(path: string): string {
  if (!path.startsWith("/")) return `it must start with "/"`;
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    const where = `at character ${i + 1}`;
    if (c === "{") {
      const end = path.indexOf("}", i);
      const inner = end === -1 ? undefined : path.slice(i + 1, end);
      if (inner === undefined || inner.includes("/") || inner.includes("{")) return `the "{" ${where} is not closed by a "}" before the next "/"`;
      if (inner === "") return `the parameter ${where} has no name ("{}")`;
      i = end;
    } else if (c === "}") {
      return `the "}" ${where} closes no "{"`;
    } else if (c === "%") {
      if (!/^%[0-9A-Fa-f]{2}/.test(path.slice(i))) return `the "%" ${where} does not start a percent-escape such as %20`;
      i += 2;
    } else if (!PATH_CHAR.test(c)) {
      const shown = c === " " ? "a space" : /\s/.test(c) ? "a whitespace character" : `"${c}"`;
      return `${shown} ${where} is not allowed in a URL path (write it percent-encoded, as ${encodeURIComponent(c)})`;
    }
  }
  return "it cannot be routed";
}

/** "/orders/{id}" and "/orders/{orderId}" serve the same requests. */
export function normalizeTemplate(path: string): string {
  return path.replace(/\{[^}/]*\}/g, "{}").replace(/\/+$/, "") || "/";
}

export function templateNames(path: string): string[] {
  return [...path.matchAll(/\{([^}/]+)\}/g)].map((m) => m[1]!);
}

/** Checks OpenAPI validators miss: path templates vs declared parameters, duplicate ids and routes. */
export function lintOperations(docs: DocumentSet, operations: readonly Operation[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byId = new Map<string, Operation>();
  const byRoute = new Map<string, Operation>();
  const badPaths = new Set<string>();
  for (const op of operations) {
    const label = operationLabel(op);
    if (!isRoutablePath(op.path)) {
      const key = op.document + " " + op.path;
      if (!badPaths.has(key)) {
        badPaths.add(key);
        out.push(docs.at("path-template-invalid", `Path "${clip(op.path)}" is not a URL path template: ${whatIsWrong(op.path)}. Use letters, digits, -._~!$&'()*+,;=:@, percent-escapes and {name} parameters`, { file: op.document, pointer: joinPointer("/paths", op.path) }, "key"));
      }
      continue;
    }
    const names = templateNames(op.path);
    const declared = op.parameters.filter((p) => p.in === "path");
    for (const name of names) {
      if (!declared.some((p) => p.name === name)) {
        out.push(
          docs.at("path-parameter-undeclared", `${label}: path parameter "${clip(name)}" is in the path template but not declared; add a parameter with name "${clip(name)}", in "path" and required true`, op.location, "key"),
        );
      }
    }
    for (const p of declared) {
      if (!names.includes(p.name)) {
        out.push(docs.at("path-parameter-not-in-template", `${label}: path parameter "${clip(p.name)}" is declared but the path template has no {${clip(p.name)}}`, { file: p.location.file, pointer: joinPointer(p.location.pointer, "name") }));
      }
    }
    if (op.operationId !== undefined) {
      const first = byId.get(op.operationId);
      const at = { file: op.location.file, pointer: joinPointer(op.location.pointer, "operationId") };
      if (first) {
        const pos = docs.locate({ file: first.location.file, pointer: joinPointer(first.location.pointer, "operationId") });
        out.push(docs.at("operation-id-duplicate", `${label}: operationId "${clip(op.operationId)}" is already used by ${operationLabel(first)} (${first.location.file}:${pos.line})`, at));
      } else {
        byId.set(op.operationId, op);
      }
    }
    const routeKey = op.method + " " + normalizeTemplate(op.path);
    const firstRoute = byRoute.get(routeKey);
    if (firstRoute) {
      const pos = docs.locate(firstRoute.location, "key");
      out.push(docs.at("route-duplicate", `${label} matches the same requests as ${operationLabel(firstRoute)} (${firstRoute.location.file}:${pos.line}); a gateway could not tell them apart`, op.location, "key"));
    } else {
      byRoute.set(routeKey, op);
    }
  }
  return out;
}

/** Server variables: a default outside the enum (a MUST in 3.1, a SHOULD in 3.0). */
export function lintServers(docs: DocumentSet, file: string, version: "3.0" | "3.1"): Diagnostic[] {
  const out: Diagnostic[] = [];
  const root = docs.get(file)?.value;
  const lists: { servers: unknown; pointer: string }[] = [];
  if (isObject(root)) {
    lists.push({ servers: root.servers, pointer: "/servers" });
    if (isObject(root.paths)) {
      for (const [path, item] of Object.entries(root.paths)) {
        if (!isObject(item)) continue;
        lists.push({ servers: item.servers, pointer: joinPointer("/paths", path, "servers") });
        for (const method of HTTP_METHODS) {
          const op = item[method];
          if (isObject(op)) lists.push({ servers: op.servers, pointer: joinPointer("/paths", path, method, "servers") });
        }
      }
    }
  }
  for (const { servers, pointer } of lists) {
    if (!Array.isArray(servers)) continue;
    servers.forEach((server: unknown, i) => {
      if (!isObject(server)) return;
      // Variables filled with their defaults (or a digit, which fits a host, a port and a path alike).
      const vars = isObject(server.variables) ? server.variables : {};
      const filled = typeof server.url === "string" ? server.url.replace(/\{([^}]*)\}/g, (_m, name: string) => { const v = vars[name]; return isObject(v) && typeof v.default === "string" ? v.default : "1"; }) : "";
      if (typeof server.url === "string" && !isUrlReference(filled)) {
        out.push(docs.at("server-url-invalid", `Server url "${clip(server.url)}" is not a URL (absolute, or relative such as /v1)`, { file, pointer: joinPointer(pointer, i, "url") }));
      }
      if (!isObject(server.variables)) return;
      for (const [name, v] of Object.entries(server.variables)) {
        if (!isObject(v) || !Array.isArray(v.enum) || v.enum.length === 0 || v.default === undefined) continue;
        if (!v.enum.includes(v.default)) {
          const d = docs.at("server-variable-invalid", `Server variable "${clip(name)}": default ${clip(JSON.stringify(v.default))} is not one of its enum values ${clip(JSON.stringify(v.enum))}`, { file, pointer: joinPointer(pointer, i, "variables", name, "default") });
          if (version === "3.0") d.severity = "warning";
          out.push(d);
        }
      }
    });
  }
  return out;
}
function isUrlReference(text: string): boolean {
  if (/[\s<>"\\^`|]/.test(text)) return false;
  try {
    new URL(text, "https://base.invalid/");
    return true;
  } catch {
    return false;
  }
}
