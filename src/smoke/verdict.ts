import type { ErrorObject } from "ajv";
import { isObject, joinPointer, SchemaCompiler, UnsupportedPatternError, type GatewayConfig, type Operation } from "../config/index.js";

/** What came back for one smoke request: an answer, or no answer at all (refused, timed out). */
export type SmokeAnswer = { status: number; contentType: string | undefined; body: string } | { error: string };

export type SmokeVerdict =
  | { outcome: "passed" }
  /** The answer breaks the description: undocumented status, content type, or a body its schema refuses. */
  | { outcome: "failed"; reason: string }
  /** Nothing to judge the contract by: the upstream (or the gateway) did not answer. */
  | { outcome: "unavailable"; reason: string };

/** 502 and 504 are what the gateway answers when the upstream is down or slow: not the contract's fault. */
const UPSTREAM_FAILURE = new Set([502, 504]);

/**
 * Judges answers against one configuration's description. Response schemas are compiled by the
 * same compiler request validation uses, so OpenAPI 3.0 (draft-04, `nullable`) and 3.1 (2020-12)
 * read alike in both places.
 */
export class SmokeJudge {
  private readonly compiler: SchemaCompiler;
  private readonly versions: Map<string, "3.0" | "3.1">;

  constructor(private readonly config: GatewayConfig) {
    this.compiler = new SchemaCompiler(config.docs);
    this.versions = new Map(config.documents.map((d) => [d.file, d.version]));
  }

  judge(op: Operation, answer: SmokeAnswer): SmokeVerdict {
    if ("error" in answer) return { outcome: "unavailable", reason: `no answer: ${answer.error}` };
    if (UPSTREAM_FAILURE.has(answer.status)) return { outcome: "unavailable", reason: `upstream unavailable (${answer.status}${problemDetail(answer)})` };
    const docs = this.config.docs;
    const responses = docs.deref(op.value.responses, { file: op.location.file, pointer: joinPointer(op.location.pointer, "responses") });
    const table = responses && isObject(responses.value) ? responses.value : {};
    const key = [String(answer.status), `${String(answer.status)[0]}XX`, `${String(answer.status)[0]}xx`, "default"].find((k) => k in table);
    const documented = Object.keys(table).filter((k) => !k.startsWith("x-"));
    // A rate limit (the route's own, counted per caller) says the test came too fast, not that the contract is broken.
    if (key === undefined && answer.status === 429) return { outcome: "unavailable", reason: `rate limited (429${problemDetail(answer)})` };
    if (key === undefined) return { outcome: "failed", reason: `status ${answer.status} is not documented (the description has ${documented.join(", ") || "no responses"})` };
    const response = docs.deref(table[key], { file: responses!.location.file, pointer: joinPointer(responses!.location.pointer, key) });
    const content = response && isObject(response.value) && isObject(response.value.content) ? response.value.content : undefined;
    // A response without content says nothing of its body; nor is there a body to judge after HEAD or 204.
    if (!content || Object.keys(content).length === 0 || answer.body.length === 0 || op.method === "head") return { outcome: "passed" };
    const type = (answer.contentType ?? "").split(";")[0]!.trim().toLowerCase();
    const media = mediaTypeFor(type, Object.keys(content));
    if (media === undefined) return { outcome: "failed", reason: `content type ${type || "(none)"} is not documented for ${key} (the description has ${Object.keys(content).join(", ")})` };
    const schemaAt = { file: response!.location.file, pointer: joinPointer(response!.location.pointer, "content", media, "schema") };
    const mediaObject = content[media];
    if (!isObject(mediaObject) || mediaObject.schema === undefined || !/[/+]json$/.test(type)) return { outcome: "passed" };
    let value: unknown;
    try {
      value = JSON.parse(answer.body);
    } catch {
      return { outcome: "failed", reason: `the body is not valid JSON, though it says ${type}` };
    }
    let validate;
    try {
      validate = this.compiler.compile(schemaAt.file, schemaAt.pointer, this.versions.get(op.location.file) ?? this.versions.get(op.document) ?? "3.1");
    } catch (e) {
      // A pattern RE2 cannot run is not the answer's fault: the body was not judged, and the row says why.
      if (e instanceof UnsupportedPatternError) return { outcome: "unavailable", reason: `the body was not checked: the response schema of ${key} has a ${e.message.slice(0, 200)}` };
      return { outcome: "failed", reason: `the response schema of ${key} cannot be compiled: ${(e as Error).message.slice(0, 200)}` };
    }
    return validate(value) ? { outcome: "passed" } : { outcome: "failed", reason: firstSchemaError(validate.errors ?? []) };
  }
}

/** The documented media type an answer's content type falls under: exact first, then `type/*`, then `*\/*`. */
export function mediaTypeFor(type: string, documented: readonly string[]): string | undefined {
  const bare = (t: string) => t.split(";")[0]!.trim().toLowerCase();
  return documented.find((d) => bare(d) === type) ?? documented.find((d) => bare(d) === `${type.split("/")[0]}/*`) ?? documented.find((d) => bare(d) === "*/*");
}

/** The first schema error, as a reader of the body would say it: where in the body, and what is wrong. */
export function firstSchemaError(errors: readonly ErrorObject[]): string {
  // The deepest complaint explains a failing anyOf/oneOf better than the composite one above it.
  const e = errors.find((x) => !["anyOf", "oneOf", "allOf", "if", "not"].includes(x.keyword)) ?? errors[0];
  if (!e) return "the body does not match the response schema";
  const where = e.instancePath === "" ? "body" : `body${e.instancePath.split("/").slice(1).map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s.replace(/~1/g, "/").replace(/~0/g, "~")}`)).join("")}`;
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "enum") return `${where} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  if (e.keyword === "additionalProperties") return `${where} has the property "${String(p.additionalProperty)}", which the schema does not allow`;
  if (e.keyword === "required") return `${where} lacks the required property "${String(p.missingProperty)}"`;
  return `${where} ${e.message ?? "is invalid"}`;
}

/** A gateway problem's detail, so "upstream unavailable" says what the gateway saw. */
function problemDetail(answer: { contentType: string | undefined; body: string }): string {
  if (!/problem\+json/i.test(answer.contentType ?? "")) return "";
  try {
    const p = JSON.parse(answer.body) as { detail?: unknown };
    return typeof p.detail === "string" ? `: ${p.detail.slice(0, 200)}` : "";
  } catch {
    return "";
  }
}
