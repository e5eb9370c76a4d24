import type { ValidateFunction } from "ajv";
import { BUILTIN_CORS, closest, findHandler, findPolicy, HANDLERS, POLICIES, RUNTIME_MODULE } from "./builtins.js";
import { clip, type Diagnostic } from "./diagnostics.js";
import type { DocumentSet, Location } from "./documents.js";
import { collectEnv } from "./env-refs.js";
import { isObject, type CorsPolicyDefinition, type EnvReference, type HandlerRef, type Operation, type PolicyDefinition, type Route } from "./model.js";
import { checkOptions, schemaValidator } from "./options-schema.js";
import { operationLabel } from "./operations.js";
import { explainAjvError, pickAjvErrors } from "./ajv-errors.js";
import { joinPointer } from "./pointer.js";
import { upstreamUrlProblem } from "./upstream-url.js";

const EXTENSION = "x-zuplo-route";

const policiesFileSchema = {
  type: "object",
  required: ["policies"],
  properties: {
    policies: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "policyType", "handler"],
        properties: {
          name: { type: "string", minLength: 1 },
          policyType: { type: "string", minLength: 1 },
          handler: { type: "object", required: ["export", "module"], properties: { export: { type: "string" }, module: { type: "string" }, options: { type: "object" } } },
        },
      },
    },
    corsPolicies: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "allowedOrigins"],
        additionalProperties: false,
        properties: {
          name: { type: "string", minLength: 1 },
          allowedOrigins: { type: "array", items: { type: "string", minLength: 1 } },
          allowedMethods: { type: "array", items: { type: "string" } },
          allowedHeaders: { type: "array", items: { type: "string" } },
          exposeHeaders: { type: "array", items: { type: "string" } },
          allowCredentials: { type: "boolean" },
          maxAge: { type: "integer", minimum: 0 },
        },
      },
    },
  },
};
/** Compiled when a policies file is first read, not when the module loads (every CLI run loads it). */
let compiledPoliciesFile: ValidateFunction | undefined;

export interface PoliciesFile {
  policies: PolicyDefinition[];
  corsPolicies: CorsPolicyDefinition[];
  /** The path, when policies.json is not in the snapshot at all (routes that name policies then get file-missing). */
  missing?: string;
}

/** Reads `policies.json`: named policies, each a built-in with options that fit its schema. */
export function readPoliciesFile(docs: DocumentSet, path: string, env: EnvReference[]): { file: PoliciesFile; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const empty = { policies: [], corsPolicies: [] };
  if (!docs.has(path)) return { file: { ...empty, missing: path }, diagnostics: out };
  const file = docs.get(path);
  if (!file) return { file: empty, diagnostics: out };
  const validatePoliciesFile = (compiledPoliciesFile ??= schemaValidator(policiesFileSchema));
  if (!validatePoliciesFile(file.value)) {
    for (const e of pickAjvErrors(validatePoliciesFile.errors ?? [])) {
      const { pointer, part, message } = explainAjvError(e);
      out.push(docs.at("policies-file-invalid", message.replace(/^The document/, "policies.json"), { file: path, pointer }, part));
    }
    return { file: empty, diagnostics: out };
  }
  const raw = file.value as { policies: Record<string, unknown>[]; corsPolicies?: Record<string, unknown>[] };
  const policies: PolicyDefinition[] = [];
  raw.policies.forEach((p, i) => {
    const location = { file: path, pointer: joinPointer("/policies", i) };
    const handler = p.handler as { export: string; module: string; options?: Record<string, unknown> };
    const name = p.name as string;
    if (policies.some((q) => q.name === name)) {
      out.push(docs.at("policy-duplicate-name", `Policy name "${clip(name)}" is defined more than once; names must be unique`, { file: path, pointer: joinPointer(location.pointer, "name") }));
      return;
    }
    const def: PolicyDefinition = { name, policyType: p.policyType as string, export: handler.export, module: handler.module, options: handler.options ?? {}, location };
    policies.push(def);
    const handlerAt = { file: path, pointer: joinPointer(location.pointer, "handler") };
    if (handler.module !== RUNTIME_MODULE) {
      out.push(docs.at("module-custom-unsupported", `Policy "${clip(name)}" comes from the code module ${clip(handler.module)}; Gitway does not run custom code. Use a built-in policy from ${RUNTIME_MODULE}`, { file: path, pointer: joinPointer(handlerAt.pointer, "module") }));
      return;
    }
    const builtin = findPolicy(handler.export);
    if (!builtin) {
      const hint = closest(handler.export, POLICIES.map((b) => b.export));
      out.push(docs.at("policy-unknown", `Policy "${clip(name)}": ${clip(handler.export)} is not a built-in policy${hint ? `; did you mean ${hint}?` : `. Built-ins: ${POLICIES.map((b) => b.export).join(", ")}`}`, { file: path, pointer: joinPointer(handlerAt.pointer, "export") }));
      return;
    }
    out.push(...checkOptions(docs, builtin.options, def.options, { file: path, pointer: joinPointer(handlerAt.pointer, "options") }, "policy-options-invalid", `Policy "${clip(name)}"`, builtin.unsupported));
    collectEnv(docs, def.options, { file: path, pointer: joinPointer(handlerAt.pointer, "options") }, env, out);
  });
  const corsPolicies: CorsPolicyDefinition[] = (raw.corsPolicies ?? []).map((c, i) => ({
    name: c.name as string,
    allowedOrigins: c.allowedOrigins as string[],
    allowedMethods: (c.allowedMethods as string[] | undefined) ?? ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: (c.allowedHeaders as string[] | undefined) ?? [],
    exposeHeaders: (c.exposeHeaders as string[] | undefined) ?? [],
    allowCredentials: c.allowCredentials === true,
    maxAge: c.maxAge as number | undefined,
    location: { file: path, pointer: joinPointer("/corsPolicies", i) },
  }));
  for (const c of corsPolicies) {
    if ((BUILTIN_CORS as readonly string[]).includes(c.name)) {
      out.push(docs.at("policy-duplicate-name", `CORS policy name "${c.name}" is a built-in; choose another name`, c.location));
    }
  }
  return { file: { policies, corsPolicies }, diagnostics: out };
}

/** Turns each operation's x-zuplo-route into a route whose handler and policies are all known. */
export function readZuploRoutes(docs: DocumentSet, operations: readonly Operation[], policiesFile: PoliciesFile, env: EnvReference[]): { routes: Route[]; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = [];
  const routes: Route[] = [];
  const policyNames = new Map(policiesFile.policies.map((p) => [p.name, p]));
  const used = new Set<string>();
  let missingReported = false;
  for (const op of operations) {
    const label = operationLabel(op);
    const ext = op.value[EXTENSION];
    const at: Location = { file: op.location.file, pointer: joinPointer(op.location.pointer, EXTENSION) };
    if (ext === undefined) {
      out.push(docs.at("route-missing-gateway-extension", `${label} has no ${EXTENSION}; the gateway will not serve it`, op.location, "key"));
      continue;
    }
    if (!isObject(ext) || !isObject(ext.handler)) {
      out.push(docs.at("route-invalid", `${label}: ${EXTENSION} must be an object with a handler {export, module, options}`, at));
      continue;
    }
    const handlerAt = { file: at.file, pointer: joinPointer(at.pointer, "handler") };
    const h = ext.handler;
    if (typeof h.export !== "string" || typeof h.module !== "string") {
      out.push(docs.at("route-invalid", `${label}: handler needs "export" and "module" strings`, handlerAt));
      continue;
    }
    const options = isObject(h.options) ? h.options : {};
    const handler: HandlerRef = { export: h.export, module: h.module, options, location: handlerAt };
    let handlerOk = true;
    if (h.module !== RUNTIME_MODULE) {
      out.push(docs.at("module-custom-unsupported", `${label}: handler module ${clip(h.module)} is custom code; Gitway does not run custom code. Use a built-in handler (${HANDLERS.map((x) => x.export).join(", ")}) from ${RUNTIME_MODULE}`, { file: at.file, pointer: joinPointer(handlerAt.pointer, "module") }));
      handlerOk = false;
    } else {
      const builtin = findHandler(h.export);
      if (!builtin) {
        const hint = closest(h.export, HANDLERS.map((x) => x.export));
        out.push(docs.at("handler-unknown", `${label}: ${clip(h.export)} is not a built-in handler${hint ? `; did you mean ${hint}?` : `. Built-ins: ${HANDLERS.map((x) => x.export).join(", ")}`}`, { file: at.file, pointer: joinPointer(handlerAt.pointer, "export") }));
        handlerOk = false;
      } else {
        const optionsAt = { file: at.file, pointer: joinPointer(handlerAt.pointer, "options") };
        const problems = checkOptions(docs, builtin.options, options, optionsAt, "handler-options-invalid", label, builtin.unsupported);
        out.push(...problems);
        if (h.export === "urlForwardHandler" && typeof options.baseUrl === "string") {
          const why = upstreamUrlProblem(options.baseUrl);
          if (why) out.push(docs.at("forward-base-url-invalid", `${label}: baseUrl ${why}`, { file: at.file, pointer: joinPointer(optionsAt.pointer, "baseUrl") }));
        }
        if (problems.some((p) => p.severity === "error")) handlerOk = false;
        collectEnv(docs, options, optionsAt, env, out);
      }
    }
    const corsPolicy = ext.corsPolicy === undefined ? "none" : ext.corsPolicy;
    if (typeof corsPolicy !== "string" || (!(BUILTIN_CORS as readonly string[]).includes(corsPolicy) && !policiesFile.corsPolicies.some((c) => c.name === corsPolicy))) {
      const names = [...BUILTIN_CORS, ...policiesFile.corsPolicies.map((c) => c.name)];
      out.push(docs.at("cors-policy-undefined", `${label}: corsPolicy ${JSON.stringify(corsPolicy)} is not defined; use one of ${names.map((n) => `"${n}"`).join(", ")} or add it to corsPolicies in policies.json`, { file: at.file, pointer: joinPointer(at.pointer, "corsPolicy") }));
    }
    const lists = { inbound: [] as string[], outbound: [] as string[] };
    const policiesValue = ext.policies === undefined ? {} : ext.policies;
    if (!isObject(policiesValue)) {
      out.push(docs.at("route-invalid", `${label}: policies must be an object with inbound and outbound lists`, { file: at.file, pointer: joinPointer(at.pointer, "policies") }));
    } else {
      for (const direction of ["inbound", "outbound"] as const) {
        const list = policiesValue[direction];
        const listAt = { file: at.file, pointer: joinPointer(at.pointer, "policies", direction) };
        if (list === undefined) continue;
        if (!Array.isArray(list) || list.some((n) => typeof n !== "string")) {
          out.push(docs.at("route-invalid", `${label}: policies.${direction} must be a list of policy names`, listAt));
          continue;
        }
        list.forEach((name: string, i) => {
          const itemAt = { file: at.file, pointer: joinPointer(listAt.pointer, i) };
          const def = policyNames.get(name);
          used.add(name);
          if (!def && policiesFile.missing !== undefined) {
            // One diagnostic for the missing file, not one "undefined" per name it would have defined.
            if (!missingReported) out.push(docs.at("file-missing", `${label}: policy "${clip(name)}" comes from ${policiesFile.missing}, which does not exist in this commit; add it with the policies the routes name`, itemAt));
            missingReported = true;
            return;
          }
          if (!def) {
            const hint = closest(name, [...policyNames.keys()]);
            out.push(docs.at("policy-undefined", `${label}: policy "${clip(name)}" is not defined in policies.json${hint ? `; did you mean "${hint}"?` : ""}`, itemAt));
            return;
          }
          const builtin = findPolicy(def.export);
          if (builtin && builtin.direction !== direction) {
            out.push(docs.at("route-invalid", `${label}: policy "${clip(name)}" (${builtin.policyType}) is an ${builtin.direction} policy but is listed under ${direction}`, itemAt));
            return;
          }
          lists[direction].push(name);
        });
      }
    }
    if (handlerOk) routes.push({ id: label, operation: op, handler, corsPolicy: typeof corsPolicy === "string" ? corsPolicy : "none", inbound: lists.inbound, outbound: lists.outbound, location: at });
  }
  for (const p of policiesFile.policies) {
    if (!used.has(p.name)) out.push(docs.at("policy-unused", `Policy "${p.name}" is defined but no route uses it`, { file: p.location.file, pointer: joinPointer(p.location.pointer, "name") }));
  }
  return { routes, diagnostics: out };
}
