import type { ErrorObject, ValidateFunction } from "ajv";
import { isObject, joinPointer, type DocumentSet, type Operation, type SchemaCompiler } from "../../config/index.js";
import type { Inbound, RequestContext } from "../context.js";
import { problem } from "../problem.js";
import { readBody } from "../request-body.js";
import { decodeParam } from "../path-match.js";


type Mode = "none" | "log-only" | "reject-and-log" | "reject-only";

export interface RequestValidationOptions {
  validateBody?: Mode;
  validateQueryParameters?: Mode;
  validatePathParameters?: Mode;
  validateHeaders?: Mode;
}

interface Check {
  where: "body" | "query" | "path" | "header";
  mode: Mode;
  run: (ctx: RequestContext) => { errors: { in: string; message: string }[] } | Promise<{ errors: { in: string; message: string }[] } | ReturnType<typeof problem>>;
}

function ajvErrors(where: string, name: string, errors: ErrorObject[] | null | undefined): { in: string; message: string }[] {
  return (errors ?? []).slice(0, 20).map((e) => ({ in: where, message: `${name}${e.instancePath ? e.instancePath.replace(/\//g, ".") : ""} ${e.message ?? "is invalid"}` }));
}

/** A query or header string converted to the parameter schema's type, where it says one. */
function coerce(value: string, schema: unknown): unknown {
  const type = isObject(schema) ? schema.type : undefined;
  const t = Array.isArray(type) ? type.find((x) => x !== "null") : type;
  if ((t === "integer" || t === "number") && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  if (t === "boolean" && (value === "true" || value === "false")) return value === "true";
  // Items are converted by the items schema; Node joins a repeated header with ", ", the form `a, b` reads alike.
  if (t === "array") return value.split(",").map((item) => coerce(item.trim(), isObject(schema) ? schema.items : undefined));
  return value;
}

/**
 * request-validation-inbound: the body, query, path and header parameters checked against the
 * operation's schemas. Validators are compiled on the first request of the operation, so building
 * and swapping a large release stays fast.
 */
export function requestValidationInbound(options: RequestValidationOptions, op: Operation, docs: DocumentSet, compiler: SchemaCompiler, version: "3.0" | "3.1", bodyLimit: number, bodyTimeoutMs: number, log: (m: string) => void): Inbound {
  const checks: Check[] = [];
  const lazy = (file: string, pointer: string) => {
    let v: ValidateFunction | undefined;
    // The same schemas `gitway validate` compiled (schema-check.ts), so this does not throw for a valid config.
    return () => (v ??= compiler.compile(file, pointer, version));
  };
  const paramChecks = (where: "query" | "path" | "header", mode: Mode | undefined) => {
    if (!mode || mode === "none") return;
    const params = op.parameters.filter((p) => p.in === where);
    if (params.length === 0) return;
    const compiled = params.map((p) => ({ p, validate: isObject(p.value.schema) || typeof p.value.schema === "boolean" ? lazy(p.location.file, joinPointer(p.location.pointer, "schema")) : undefined }));
    checks.push({
      where,
      mode,
      run: (ctx) => {
        const errors: { in: string; message: string }[] = [];
        const query = where === "query" ? new URLSearchParams(ctx.search) : undefined;
        for (const { p, validate } of compiled) {
          const raw = where === "query" ? (query!.getAll(p.name).length > 1 ? query!.getAll(p.name).join(",") : (query!.get(p.name) ?? undefined)) : where === "path" ? decodeParam(ctx.params[p.name]) : headerValue(ctx, p.name);
          if (raw === undefined) {
            if (p.required) errors.push({ in: where, message: `${where} parameter "${p.name}" is required` });
            continue;
          }
          const v = validate?.();
          if (v && !v(coerce(raw, p.value.schema))) errors.push(...ajvErrors(where, `${where} parameter "${p.name}"`, v.errors));
        }
        return { errors };
      },
    });
  };
  paramChecks("path", options.validatePathParameters);
  paramChecks("query", options.validateQueryParameters);
  paramChecks("header", options.validateHeaders);

  const bodyMode = options.validateBody;
  if (bodyMode && bodyMode !== "none") {
    const rb = op.value.requestBody === undefined ? undefined : docs.deref(op.value.requestBody, { file: op.location.file, pointer: joinPointer(op.location.pointer, "requestBody") });
    const content = rb && isObject(rb.value) && isObject(rb.value.content) ? rb.value.content : {};
    const jsonType = Object.keys(content).find((t) => /^application\/(.+\+)?json/i.test(t));
    const required = rb !== undefined && isObject(rb.value) && rb.value.required === true;
    const schemaLoc = jsonType && rb ? { file: rb.location.file, pointer: joinPointer(rb.location.pointer, "content", jsonType, "schema") } : undefined;
    const validate = schemaLoc && isObject(content[jsonType!]) && (content[jsonType!] as Record<string, unknown>).schema !== undefined ? lazy(schemaLoc.file, schemaLoc.pointer) : undefined;
    checks.push({
      where: "body",
      mode: bodyMode,
      run: async (ctx) => {
        if (ctx.body === undefined) {
          const read = await readBody(ctx.req, bodyLimit, bodyTimeoutMs);
          if (!Buffer.isBuffer(read)) return read;
          ctx.body = read;
        }
        if (ctx.body.length === 0) return { errors: required ? [{ in: "body", message: "a request body is required" }] : [] };
        if (!validate) return { errors: [] };
        const type = String(ctx.req.headers["content-type"] ?? "");
        if (!/json/i.test(type)) return { errors: [{ in: "body", message: `content type ${type || "(none)"} is not accepted; send ${jsonType}` }] };
        let value: unknown;
        try {
          value = JSON.parse(ctx.body.toString("utf8"));
        } catch (e) {
          return { errors: [{ in: "body", message: `the body is not valid JSON: ${(e as Error).message}` }] };
        }
        const v = validate();
        return { errors: v(value) ? [] : ajvErrors("body", "body", v.errors) };
      },
    });
  }

  return async (ctx) => {
    const errors: { in: string; message: string }[] = [];
    for (const check of checks) {
      const r = await check.run(ctx);
      if ("status" in r) return r;
      if (r.errors.length === 0) continue;
      if (check.mode !== "reject-only") log(`request validation (${check.where}) ${ctx.method} ${ctx.path}: ${r.errors.map((e) => e.message).join("; ")}`);
      if (check.mode === "reject-and-log" || check.mode === "reject-only") errors.push(...r.errors);
    }
    if (errors.length === 0) return undefined;
    return problem(400, "request-validation-failed", "Bad Request", `The request does not fit the API description: ${errors[0]!.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`, { extra: { errors } });
  };
}

function headerValue(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(",") : v;
}
