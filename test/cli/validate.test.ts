import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SEED_DIR } from "../helpers.js";
import { gitway } from "./run-cli.js";

function repo(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "gitway-cli-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const broken = JSON.stringify(
  {
    openapi: "3.1.0",
    info: { title: "x", version: "1" },
    paths: { "/a": { get: { responses: { "200": { description: "ok" } }, "x-zuplo-route": { handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: "https://a.example" } }, policies: { inbound: ["missing-policy"] } } } } },
  },
  null,
  2,
);

describe("gitway validate", () => {
  it("exits 0 on the seed example and says so", () => {
    const r = gitway(["validate", SEED_DIR]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("0 errors, 0 warnings, 0 notes\n");
    expect(r.code).toBe(0);
  });

  it("prints each problem as file:line:col: severity rule: message and exits 1", () => {
    const dir = repo({ "config/routes.oas.json": broken, "config/policies.json": '{"policies": []}' });
    const r = gitway(["validate", dir]);
    expect(r.stdout).toBe(`${dir}/config/routes.oas.json:25:15: error policy-undefined: GET /a: policy "missing-policy" is not defined in policies.json\n`);
    expect(r.code).toBe(1);
  });

  it("prints paths relative to the repository when run inside it", () => {
    const dir = repo({ "config/routes.oas.json": broken, "config/policies.json": '{"policies": []}' });
    expect(gitway(["validate"], { cwd: dir }).stdout).toMatch(/^config\/routes\.oas\.json:25:15: error policy-undefined/);
  });

  it("prints JSON with every diagnostic field for --format json", () => {
    const dir = repo({ "config/routes.oas.json": broken, "config/policies.json": '{"policies": []}' });
    const r = gitway(["validate", dir, "--format", "json"]);
    expect(JSON.parse(r.stdout)).toEqual({
      diagnostics: [
        {
          severity: "error",
          rule: "policy-undefined",
          message: 'GET /a: policy "missing-policy" is not defined in policies.json',
          file: "config/routes.oas.json",
          line: 25,
          column: 15,
          pointer: "/paths/~1a/get/x-zuplo-route/policies/inbound/0",
        },
      ],
    });
    expect(r.code).toBe(1);
  });

  it("validates a single OpenAPI file, reading its relative $refs from its directory", () => {
    const dir = repo({
      "api.yaml": "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: 'https://a.example'}]\npaths:\n  /a:\n    get:\n      responses:\n        '200': {$ref: 'responses.yaml#/Ok'}\n",
      "responses.yaml": "Ok: {description: ok}\n",
    });
    const r = gitway(["validate", join(dir, "api.yaml")]);
    expect(r.stderr).toBe("0 errors, 0 warnings, 0 notes\n");
    expect(r.code).toBe(0);
  });

  it("exits 0 when the config has warnings and notes but no errors", () => {
    const routed = { responses: { "200": { description: "ok" } }, "x-zuplo-route": { corsPolicy: "none", handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: "https://a.example" } }, policies: { inbound: [] } } };
    const routes = JSON.stringify({ openapi: "3.1.0", info: { title: "x", version: "1" }, paths: { "/a": { get: routed }, "/b": { get: { responses: { "200": { description: "ok" } } } } } }, null, 2);
    const policies = JSON.stringify({ policies: [{ name: "unused", policyType: "api-key-inbound", handler: { export: "ApiKeyInboundPolicy", module: "$import(@zuplo/runtime)" } }] });
    const r = gitway(["validate", repo({ "config/routes.oas.json": routes, "config/policies.json": policies })], { cwd: tmpdir() });
    // Errors first, then warnings, then notes, whatever the files they are in.
    expect(r.stdout.split("\n").filter(Boolean).map((l) => / (warning|info) ([a-z-]+):/.exec(l)?.slice(1).join(" "))).toEqual(["warning route-missing-gateway-extension", "info policy-unused"]);
    expect(r.stderr).toBe("0 errors, 1 warning, 1 note\n");
    expect(r.code).toBe(0);
  });

  it("exits 2 when the path cannot be read", () => {
    const r = gitway(["validate", "/nonexistent/gitway-repo"]);
    expect(r.stderr).toBe("gitway: Cannot read /nonexistent/gitway-repo: no such file or directory\n");
    expect(r.code).toBe(2);
  });

  it("exits 2 on an unknown format", () => {
    const r = gitway(["validate", SEED_DIR, "--format", "xml"]);
    expect(r.stderr).toMatch(/--format must be text or json/);
    expect(r.code).toBe(2);
  });

  it("gives an over-limit file one diagnostic without reading it, with the limit settable", () => {
    const dir = repo({ "openapi.yaml": "openapi: 3.0.3\n" + "#".repeat(2000) + "\n" });
    const r = gitway(["validate", dir, "--max-file-bytes", "1000", "--format", "json"]);
    expect(JSON.parse(r.stdout).diagnostics.map((d: { rule: string }) => d.rule)).toEqual(["file-too-large"]);
    expect(r.code).toBe(1);
    expect(gitway(["validate", dir], { env: { GITWAY_MAX_FILE_BYTES: "1000" } }).stdout).toMatch(/file-too-large/);
  });
});

describe("the built command's OpenAPI schema check", () => {
  it("ships each version's validator as generated code, so no run compiles the OpenAPI schema", () => {
    for (const version of ["3.0", "3.1"]) {
      const file = fileURLToPath(new URL(`../../dist/config/generated/openapi-${version}-validator.cjs`, import.meta.url));
      expect(readFileSync(file, "utf8")).toMatch(/^"use strict";module\.exports = validate\d+;/);
    }
  });
});
