import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { placed, snapshot } from "../helpers.js";

const ROUTES = "config/routes.oas.json";

/** Every hostile input gets a diagnostic, quickly, and nothing throws. */
function read(files: Record<string, string | Uint8Array>, maxFileBytes?: number) {
  const started = performance.now();
  const result = readConfig(snapshot(files), maxFileBytes ? { limits: { maxFileBytes } } : {});
  return { ...result, ms: performance.now() - started };
}

describe("hostile and broken input", () => {
  it("reports an empty route file", () => {
    expect(placed(read({ [ROUTES]: "" }).diagnostics)).toEqual([{ rule: "file-empty", file: ROUTES, line: 1, column: 1, severity: "error" }]);
  });

  it("reports a whitespace-only YAML document as empty", () => {
    expect(read({ "openapi.yaml": "\n   \n" }).diagnostics.map((d) => d.rule)).toEqual(["file-empty"]);
  });

  it("reports binary content", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(read({ [ROUTES]: png }).diagnostics.map((d) => [d.rule, d.message])).toEqual([["file-not-text", "File is binary (it contains NUL bytes), not JSON or YAML text"]]);
  });

  it("reports text that is not UTF-8", () => {
    const latin1 = new Uint8Array([...Buffer.from('{"openapi": "3.1.0", "info": {"title": "Caf'), 0xe9, ...Buffer.from('"}}')]);
    expect(read({ [ROUTES]: latin1 }).diagnostics.map((d) => d.rule)).toEqual(["file-not-text"]);
  });

  it("reads a UTF-8 file that starts with a byte order mark", () => {
    const text = "\ufeffopenapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: 'https://a.example'}]\npaths: {}\n";
    expect(read({ "openapi.yaml": text }).diagnostics).toEqual([]);
  });

  it("gives a 50 MB file one diagnostic without parsing it", () => {
    const big = new Uint8Array(50 * 1024 * 1024).fill(0x20);
    big[0] = 0x7b;
    const { diagnostics, ms } = read({ [ROUTES]: big });
    expect(diagnostics.map((d) => [d.rule, d.message])).toEqual([["file-too-large", expect.stringMatching(/^File is 50\.0 MiB, over the 32\.0 MiB limit/)]]);
    expect(ms).toBeLessThan(1000);
  });

  it("lets the size limit be configured", () => {
    const small = '{"openapi": "3.1.0"}';
    expect(read({ [ROUTES]: small }, 10).diagnostics.map((d) => d.rule)).toEqual(["file-too-large"]);
  });

  // The depth limit is 256 levels; the place reported is the collection that reaches it.
  it("stops 10,000 levels of JSON nesting at the depth limit, at the bracket that passes it", () => {
    const text = '{"openapi": "3.1.0", "x": ' + "[".repeat(10_000) + "]".repeat(10_000) + "}";
    const { diagnostics, ms } = read({ [ROUTES]: text });
    expect(diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([["nesting-too-deep", 1, 27 + 255]]);
    expect(ms).toBeLessThan(2000);
  });

  it("stops JSON nesting just past the limit, and accepts it just under", () => {
    const nested = (n: number) => '{"openapi": "3.1.0", "x": ' + "[".repeat(n) + "]".repeat(n) + "}";
    expect(read({ [ROUTES]: nested(255) }).diagnostics.map((d) => d.rule)).not.toContain("nesting-too-deep");
    expect(read({ [ROUTES]: nested(256) }).diagnostics.map((d) => d.rule)).toContain("nesting-too-deep");
  });

  it("stops 10,000 levels of YAML flow nesting at the depth limit, without overflowing the stack", () => {
    const text = "openapi: 3.0.3\nx: " + "[".repeat(10_000) + "]".repeat(10_000) + "\n";
    const { diagnostics, ms } = read({ "openapi.yaml": text });
    expect(placed(diagnostics)).toEqual([{ rule: "nesting-too-deep", file: "openapi.yaml", line: 2, column: 3 + 256, severity: "error" }]);
    expect(diagnostics[0]!.message).toBe("Nesting is deeper than 256 levels");
    expect(ms).toBeLessThan(2000);
  });

  it("stops 10,000 levels of YAML block nesting at the depth limit, without overflowing the stack", () => {
    const text = "openapi: 3.0.3\nx:\n  " + "- ".repeat(10_000) + "1\n";
    expect(placed(read({ "openapi.yaml": text }).diagnostics)).toEqual([{ rule: "nesting-too-deep", file: "openapi.yaml", line: 3, column: 3 + 2 * 255, severity: "error" }]);
  });

  it("places YAML nesting a little past the limit where it places 10,000 levels", () => {
    const nested = (n: number) => "openapi: 3.0.3\nx: " + "[".repeat(n) + "]".repeat(n) + "\n";
    expect(read({ "openapi.yaml": nested(300) }).diagnostics.map((d) => [d.rule, d.line, d.column])).toEqual([["nesting-too-deep", 2, 3 + 256]]);
    expect(read({ "openapi.yaml": nested(255) }).diagnostics.map((d) => d.rule)).not.toContain("nesting-too-deep");
  });

  it("refuses a billion-laughs alias bomb instead of expanding it", () => {
    let bomb = 'openapi: 3.0.3\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    let prev = "a";
    for (const k of "bcdefghi") {
      bomb += `${k}: &${k} [${Array(9).fill("*" + prev).join(",")}]\n`;
      prev = k;
    }
    const { diagnostics, ms } = read({ "openapi.yaml": bomb });
    expect(diagnostics.map((d) => d.rule)).toEqual(["yaml-alias-limit"]);
    expect(ms).toBeLessThan(2000);
  });

  it("refuses a YAML alias that contains itself", () => {
    const { diagnostics } = read({ "openapi.yaml": "openapi: 3.0.3\na: &a\n  b: *a\n" });
    expect(diagnostics.map((d) => [d.rule, d.line])).toEqual([["yaml-alias-limit", 3]]);
  });

  it("reports duplicate keys in YAML at the second key", () => {
    const text = "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: 'https://a.example'}]\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n  /a:\n    post:\n      responses: {'200': {description: ok}}\n";
    expect(placed(read({ "openapi.yaml": text }).diagnostics)).toEqual([{ rule: "duplicate-key", file: "openapi.yaml", line: 8, column: 3, severity: "error" }]);
  });

  it("reports duplicate keys in JSON at the second key", () => {
    const text = '{\n  "openapi": "3.1.0",\n  "openapi": "3.0.0"\n}';
    expect(placed(read({ [ROUTES]: text }).diagnostics).filter((d) => d.rule === "duplicate-key")).toEqual([{ rule: "duplicate-key", file: ROUTES, line: 3, column: 3, severity: "error" }]);
  });

  it("treats __proto__ and constructor as ordinary names", () => {
    const text = JSON.stringify({ openapi: "3.1.0", info: { title: "x", version: "1" }, paths: { "/a": { get: { responses: { "200": { description: "ok" } }, "x-zuplo-route": { handler: { export: "urlForwardHandler", module: "$import(@zuplo/runtime)", options: { baseUrl: "https://a.example" } }, policies: { inbound: ["constructor", "__proto__"] } } } } } });
    const { diagnostics } = read({ [ROUTES]: text, "config/policies.json": '{"policies": [], "__proto__": {"polluted": true}}' });
    expect(diagnostics.filter((d) => d.rule === "policy-undefined").map((d) => d.message)).toEqual([expect.stringContaining('"constructor"'), expect.stringContaining('"__proto__"')]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("clips a hostile 10 KB path in messages", () => {
    const path = "/" + "a b".repeat(3500);
    const text = JSON.stringify({ openapi: "3.1.0", info: { title: "x", version: "1" }, paths: { [path]: { get: { responses: { "200": { description: "ok" } } } } } });
    const { diagnostics } = read({ [ROUTES]: text });
    expect(diagnostics.map((d) => d.rule)).toContain("path-template-invalid");
    for (const d of diagnostics) expect(d.message.length).toBeLessThan(400);
  });
});
