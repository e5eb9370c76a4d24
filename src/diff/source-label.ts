import { joinPointer, parsePointer, type Location } from "../config/index.js";

const COMPOSITION = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);

const SINGULAR: Record<string, string> = { schemas: "schema", parameters: "parameter", headers: "header", responses: "response", requestBodies: "request body" };

/**
 * A schema place as a reader names it: `schema Charge property invoice.lines[]` for
 * `#/components/schemas/Charge/properties/invoice/properties/lines/items/...`. The trailing
 * keyword is left out (the message says what changed about it).
 */
export function schemaPlaceLabel(at: Location): string {
  const segments = parsePointer(at.pointer) ?? [];
  let name: string;
  let rest: string[];
  if (segments[0] === "components" && segments.length >= 3) {
    name = `${SINGULAR[segments[1]!] ?? segments[1]} ${segments[2]}`;
    // A parameter, header or response component holds its schema under "schema" (after content/<type> for a body).
    const inner = segments[1] === "schemas" ? 3 : segments.indexOf("schema", 3) + 1;
    rest = inner === 0 ? [] : segments.slice(inner);
  } else {
    // A schema written in an operation or another file: name it by where it is written.
    const root = segments.lastIndexOf("schema");
    const cut = root === -1 ? 0 : root + 1;
    name = `schema at ${at.file}#${joinPointer("", ...segments.slice(0, cut))}`;
    rest = segments.slice(cut);
  }
  let path = "";
  for (let i = 0; i < rest.length; i++) {
    const seg = rest[i]!;
    if (seg === "properties" && i + 1 < rest.length) path += (path ? "." : "") + rest[++i];
    else if (seg === "items") path += "[]";
    else if (seg === "additionalProperties") path += (path ? "." : "") + "*";
    else if (COMPOSITION.has(seg) && i + 1 < rest.length && /^\d+$/.test(rest[i + 1]!)) path += `${path ? "." : ""}${seg}[${rest[++i]}]`;
    else break;
  }
  return path ? `${name} property ${path}` : name;
}
