import type { ErrorObject } from "ajv";
import { joinPointer, parsePointer } from "./pointer.js";

/**
 * With allErrors, a failing oneOf lists every branch's complaints. Keep the complaints of the
 * branch that got furthest: drop composite errors when anything more specific exists below them,
 * and drop "missing $ref" complaints (the Reference branch) when another branch speaks for that node.
 */
export function pickAjvErrors(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => !["oneOf", "anyOf", "if", "not", "$ref"].includes(e.keyword) && !(e.keyword === "required" && (e.params as { missingProperty?: string }).missingProperty === "$ref"));
  const kept = errors.filter((e) => {
    if (e.keyword === "oneOf" || e.keyword === "anyOf" || e.keyword === "if") {
      return !specific.some((s) => s.instancePath.startsWith(e.instancePath));
    }
    if (e.keyword === "required" && (e.params as { missingProperty?: string }).missingProperty === "$ref") {
      return !errors.some((s) => s !== e && s.instancePath.startsWith(e.instancePath) && s.keyword !== "oneOf" && s.keyword !== "anyOf" && !(s.keyword === "required" && (s.params as { missingProperty?: string }).missingProperty === "$ref"));
    }
    return true;
  });
  // Branch complaints at a parent are noise once a deeper node explains the failure.
  return kept.filter((e) => e.keyword !== "type" || !kept.some((o) => o !== e && o.instancePath.startsWith(e.instancePath + "/")));
}

function field(instancePath: string, base: string): string {
  const segs = (parsePointer(instancePath) ?? []).slice((parsePointer(base) ?? []).length);
  return segs.length === 0 ? (base === "" ? "The document" : "options") : segs.slice(-3).join(" › ");
}

export function explainAjvError(e: ErrorObject, base = ""): { pointer: string; part: "key" | "value"; message: string } {
  const where = field(base + e.instancePath, base);
  const at = base + e.instancePath;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { pointer: at, part: "value", message: `${where}: missing required property "${String(p.missingProperty)}"` };
    case "additionalProperties":
      return {
        pointer: joinPointer(at, String(p.additionalProperty)),
        part: "key",
        message: `${where}: property "${String(p.additionalProperty)}" is not allowed here${String(p.additionalProperty).startsWith("x-") ? "" : " (extensions must start with x-)"}`,
      };
    case "unevaluatedProperties":
      return {
        pointer: joinPointer(at, String(p.unevaluatedProperty)),
        part: "key",
        message: `${where}: property "${String(p.unevaluatedProperty)}" is not allowed here${String(p.unevaluatedProperty).startsWith("x-") ? "" : " (extensions must start with x-)"}`,
      };
    case "enum":
      return { pointer: at, part: "value", message: `${where}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "type":
      return { pointer: at, part: "value", message: `${where}: must be ${String(p.type).replace(",", " or ")}` };
    case "pattern":
      return { pointer: at, part: "value", message: `${where}: must match the pattern ${String(p.pattern)}` };
    case "propertyNames":
      return { pointer: joinPointer(at, String(p.propertyName)), part: "key", message: `${where}: "${String(p.propertyName)}" is not a valid name here` };
    case "oneOf":
    case "anyOf":
      return { pointer: at, part: "value", message: `${where}: does not match any allowed form of this object` };
    default:
      return { pointer: at, part: "value", message: `${where}: ${e.message ?? "is invalid"}` };
  }
}
