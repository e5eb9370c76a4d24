/** RFC 6901 JSON pointers. */

export function escapeSegment(segment: string | number): string {
  const s = String(segment);
  // Most segments need no escaping; testing first spares two regex replacements per node of a large document.
  return s.includes("~") || s.includes("/") ? s.replace(/~/g, "~0").replace(/\//g, "~1") : s;
}

export function joinPointer(base: string, ...segments: (string | number)[]): string {
  // A loop rather than map/join: this runs for nearly every node a large description has.
  let out = base;
  for (const s of segments) out += typeof s === "number" ? "/" + s : "/" + escapeSegment(s);
  return out;
}

/** Splits "#/a/b" or "/a/b"; undefined when the text is not a pointer. */
export function parsePointer(pointer: string): string[] | undefined {
  let p = pointer.startsWith("#") ? pointer.slice(1) : pointer;
  if (p === "") return [];
  if (!p.startsWith("/")) return undefined;
  if (p.includes("%")) {
    try {
      p = decodeURIComponent(p);
    } catch {
      return undefined;
    }
  }
  const segments = p.slice(1).split("/");
  return p.includes("~") ? segments.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~")) : segments;
}

/** Follows a pointer through plain data; undefined when any step is missing. */
export function getAtPointer(root: unknown, segments: readonly string[]): unknown {
  let node: unknown = root;
  for (const seg of segments) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(seg)) return undefined;
      node = node[Number(seg)];
    } else if (node !== null && typeof node === "object" && Object.hasOwn(node, seg)) {
      node = (node as Record<string, unknown>)[seg];
    } else {
      return undefined;
    }
  }
  return node;
}
