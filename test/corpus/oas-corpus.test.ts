import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { validateOpenApi } from "../../src/config/index.js";
import { readDirectorySnapshot } from "../../src/git/index.js";
import { corpusPart } from "./corpus-dir.js";

const FOUND = corpusPart("oas-tests");
const ROOT = FOUND ?? "";

/**
 * Documents of the corpus whose folder says "pass" but which Gitway judges otherwise, each with
 * the reason. Everything else must come out as its folder says.
 */
const JUDGED: Record<string, string> = {
  ...Object.fromEntries(
    ["fart.openapi.yaml", "swagger.json", "test-oas3.yaml", "test-openapi.json", "test.json", "test.yaml"].map((f) => [`mermade/3.0/pass/swagger2openapi/${f}`, "an empty file (a placeholder in a converter's tests), not a document"]),
  ),
  "mermade/3.0/pass/swagger2openapi/swagger.yaml": "Swagger 2.0",
  "mermade/3.0/pass/fiendish/ref-encoding2.yaml": "Swagger 2.0",
  "mermade/3.0/pass/gluecon/example1_from_._Different_requestbody.md.yaml": "Swagger 2.0",
  "mermade/3.0/pass/gluecon/example1_from_._Different_servers.md.yaml": "Swagger 2.0",
  "mermade/3.0/pass/resolution/twolevel/": "a Swagger 2.0 document and fragments it references, not standalone documents",
  "mermade/3.0/pass/server_enum_empty.yaml": "OpenAPI 3.0 requires paths (3.0.3, 4.7.1: REQUIRED); the 3.0 schema says so too",
  "mermade/3.0/pass/server_enum_unknown.yaml": "OpenAPI 3.0 requires paths",
  "mermade/3.0/pass/fiendish/ref-encoding3.yaml": "'+' in a URI fragment is a plus sign, not a space (RFC 3986); the pointer names no existing property",
  "oai-v3.1/pass/operation-object-example.yaml": "the path template says {id} but the only path parameter declared is petId: no request could fill it",
  "oai-v3.1/pass/security-scheme-object-examples.yaml": "a $ref to an https URL: Gitway never fetches one, by design",
  "mermade/3.0/malicious/rapid7-html.json": "valid OpenAPI: the payload is HTML in a description, aimed at code and docs generators; Gitway escapes text it renders",
  "mermade/3.0/malicious/rapid7-php.json": "valid OpenAPI: a PHP payload in a description, aimed at code generators; Gitway runs no generated code",
  "mermade/3.0/malicious/rapid7-ruby.json": "valid OpenAPI: a Ruby payload in a description, aimed at code generators",
};

function judged(rel: string): string | undefined {
  return Object.entries(JUDGED).find(([k]) => (k.endsWith("/") ? rel.startsWith(k) : rel === k))?.[1];
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const f = join(dir, n);
      return statSync(f).isDirectory() ? walk(f) : /\.(ya?ml|json)$/.test(n) ? [f] : [];
    });
}

/** The folder each set was written against stands for the repository root (their $refs climb to ../resources). */
function setRoot(rel: string): string {
  return join(ROOT, rel.startsWith("mermade/") ? rel.split("/").slice(0, 2).join("/") : rel.split("/").slice(0, 1).join("/"));
}

// Without the corpus the global setup has said so in one line; the suite is skipped.
const files = FOUND ? walk(ROOT).map((f) => relative(ROOT, f)) : [];

describe.skipIf(!FOUND)("the OpenAPI test documents nobody here wrote", () => {
  it("finds the corpus", () => {
    expect(files.length).toBeGreaterThan(200);
  });

  it.each(files)("%s comes out as its folder says, within 2 s", async (rel) => {
    const root = setRoot(rel);
    const snap = await readDirectorySnapshot(root, 32 * 1024 * 1024);
    const started = performance.now();
    const diagnostics = validateOpenApi(snap, relative(root, join(ROOT, rel)));
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(2000);
    const errors = diagnostics.filter((d) => d.severity === "error");
    const kind = /\/(pass|fail|malicious)\//.exec(rel)?.[1];
    if (kind === undefined) return; // fragments (partial/, resources/): only "no crash, in time" applies
    const why = judged(rel);
    if (why) {
      // Still judged the other way; when it comes out as its folder says, the entry is stale.
      expect(kind === "pass" ? errors.length > 0 : diagnostics.length === 0, `${rel} was judged: ${why}`).toBe(true);
    } else if (kind === "pass") {
      expect(errors.map((d) => `${d.line}:${d.column} ${d.rule}: ${d.message}`)).toEqual([]);
    } else {
      expect(diagnostics.length, `${rel} should get a diagnostic`).toBeGreaterThan(0);
    }
  });
});
