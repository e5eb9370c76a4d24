/**
 * Route matching on OpenAPI path templates: a trie keyed by segment, static segments tried before
 * parameters, so /orders/latest beats /orders/{id} whatever the order in the document.
 */
export interface Match<T> {
  value: T;
  params: Record<string, string>;
}

interface Node<T> {
  statics: Map<string, Node<T>>;
  param: { name: string; node: Node<T> } | undefined;
  /** method (upper case) -> value */
  methods: Map<string, T>;
}

function node<T>(): Node<T> {
  return { statics: new Map(), param: undefined, methods: new Map() };
}

export class PathMatcher<T> {
  private readonly root: Node<T> = node();

  add(method: string, template: string, value: T): void {
    let n = this.root;
    for (const seg of split(template)) {
      const m = /^\{([^}]+)\}$/.exec(seg);
      if (m) {
        n.param ??= { name: m[1]!, node: node() };
        n = n.param.node;
      } else {
        let next = n.statics.get(seg);
        if (!next) n.statics.set(seg, (next = node()));
        n = next;
      }
    }
    n.methods.set(method.toUpperCase(), value);
  }

  /** The route for method and path; `allowed` lists the methods of the path when only the method is wrong. */
  find(method: string, path: string): { match: Match<T> } | { allowed: string[] } | undefined {
    const params: Record<string, string> = {};
    const n = this.walk(this.root, split(path), 0, params);
    if (!n) return undefined;
    const value = n.methods.get(method) ?? (method === "HEAD" ? n.methods.get("GET") : undefined);
    if (value === undefined) return { allowed: [...n.methods.keys()] };
    return { match: { value, params } };
  }

  private walk(n: Node<T>, segs: string[], i: number, params: Record<string, string>): Node<T> | undefined {
    if (i === segs.length) return n.methods.size > 0 ? n : undefined;
    const seg = segs[i]!;
    const s = n.statics.get(seg);
    if (s) {
      const found = this.walk(s, segs, i + 1, params);
      if (found) return found;
    }
    if (n.param && seg !== "") {
      const found = this.walk(n.param.node, segs, i + 1, params);
      if (found) {
        params[n.param.name] = seg;
        return found;
      }
    }
    return undefined;
  }
}

function split(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.split("/").slice(1);
}

/**
 * Decodes and normalises a request path before matching: percent-escapes of unreserved characters
 * ("%2e" is "."), repeated slashes folded, "." and ".." resolved. A path that climbs above the root
 * is refused (undefined). Encoded slashes stay encoded so they cannot split a parameter.
 */
export function normalizePath(raw: string): string | undefined {
  // Most paths have nothing to normalise; only those with escapes, dot segments or empty segments go the long way.
  if (raw.charCodeAt(0) === 47 && !/%|\/\/|\/\.|\\/.test(raw)) return raw;
  let p: string;
  try {
    p = raw.replace(/%(2[dDeE]|5[fF]|7[eE]|[46][1-9a-fA-F]|[57][0-9aA]|3[0-9])/g, (m) => decodeURIComponent(m));
  } catch {
    return undefined;
  }
  if (!p.startsWith("/")) return undefined;
  const out: string[] = [];
  for (const seg of p.split("/").slice(1)) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const trailing = p.length > 1 && p.endsWith("/") && out.length > 0 ? "/" : "";
  return "/" + out.join("/") + trailing;
}

/** A path parameter's value as sent, decoded; a malformed escape is kept as written rather than failing the request. */
export function decodeParam(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
