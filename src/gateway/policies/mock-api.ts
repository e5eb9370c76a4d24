import { isObject, joinPointer, type DocumentSet, type Operation } from "../../config/index.js";
import type { DirectResponse, Inbound } from "../context.js";
import { problem } from "../problem.js";

export interface MockOptions {
  random?: boolean;
  responsePrefixFilter?: string;
  contentType?: string;
  exampleName?: string;
}

/** mock-api-inbound: answers from the operation's examples, so an API with no backend yet still answers. */
export function mockApiInbound(options: MockOptions, op: Operation, docs: DocumentSet): Inbound {
  const candidates: DirectResponse[] = [];
  const responses = isObject(op.value.responses) ? op.value.responses : {};
  const prefix = options.responsePrefixFilter ?? "2";
  for (const [status, raw] of Object.entries(responses)) {
    if (!status.startsWith(prefix) || !/^\d{3}$/.test(status)) continue;
    const resp = docs.deref(raw, { file: op.location.file, pointer: joinPointer(op.location.pointer, "responses", status) });
    if (!resp || !isObject(resp.value) || !isObject(resp.value.content)) continue;
    for (const [type, media] of Object.entries(resp.value.content)) {
      if (options.contentType && type !== options.contentType) continue;
      if (!isObject(media)) continue;
      const examples: unknown[] = [];
      if (media.example !== undefined) examples.push(media.example);
      if (isObject(media.examples)) {
        for (const [name, ex] of Object.entries(media.examples)) {
          if (options.exampleName && name !== options.exampleName) continue;
          const e = docs.deref(ex, { file: resp.location.file, pointer: joinPointer(resp.location.pointer, "content", type, "examples", name) });
          if (e && isObject(e.value) && e.value.value !== undefined) examples.push(e.value.value);
        }
      }
      const schema = media.schema === undefined ? undefined : docs.deref(media.schema, { file: resp.location.file, pointer: joinPointer(resp.location.pointer, "content", type, "schema") })?.value;
      if (examples.length === 0 && isObject(schema) && schema.example !== undefined) examples.push(schema.example);
      for (const ex of examples) {
        const body = typeof ex === "string" && !/json/i.test(type) ? ex : JSON.stringify(ex);
        candidates.push({ direct: true, status: Number(status), headers: { "content-type": type }, body });
      }
    }
  }
  return () => {
    if (candidates.length === 0) return problem(501, "no-mock-example", "Not Implemented", "The operation has no example response to mock; add an example to its 2xx response");
    return options.random ? candidates[Math.floor(Math.random() * candidates.length)] : candidates[0];
  };
}
