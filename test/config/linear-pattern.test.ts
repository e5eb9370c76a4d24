import { describe, expect, it } from "vitest";
import { compileLinearPattern, readConfig, UnsupportedPatternError } from "../../src/config/index.js";
import { snapshot } from "../helpers.js";
import { builtinPolicy, configFiles, forward, route } from "./fixtures/seed.js";

/** Patterns a configuration writes run in time linear in the input, so no schema or client can stall a process. */
describe("patterns from a configuration", () => {
  it("answers a pattern that backtracks exponentially in V8 at once, even on a long input", () => {
    const nested = compileLinearPattern("^(a+)+$");
    const started = performance.now();
    expect(nested.test(`${"a".repeat(100_000)}!`)).toBe(false);
    expect(nested.test("aaaa")).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("keeps the meaning of ECMAScript syntax that JSON Schema patterns use", () => {
    const cases: [string, string, boolean][] = [
      ["^\\u0041$", "A", true],
      ["^\\p{L}+$", "Zürich", true],
      ["^\\p{L}+$", "Zürich1", false],
      ["^[^]$", "\n", true],
      ["^(?<year>\\d{4})-\\d{2}$", "2026-12", true],
      ["^\\d{3}-\\d{4}$", "555-01234", false],
      ["ord_", "my ord_1", true],
      ["^[A-Z]{2}\\-?\\d$", "DE-1", true],
    ];
    expect(cases.map(([p, input]) => [p, input, compileLinearPattern(p).test(input)])).toEqual(cases);
  });

  it("matches case-insensitively when asked, as CORS origins are", () => {
    expect(compileLinearPattern("^https://app\\.example$", { ignoreCase: true }).test("HTTPS://App.Example")).toBe(true);
    expect(compileLinearPattern("^https://app\\.example$").test("HTTPS://App.Example")).toBe(false);
  });

  it("refuses a lookahead or a backreference, naming the pattern and why", () => {
    expect(() => compileLinearPattern("^(?=a)a$")).toThrow(UnsupportedPatternError);
    expect(() => compileLinearPattern("^(?=a)a$")).toThrow(/pattern "\^\(\?=a\)a\$" cannot be run in linear time \(.*\(\?=.*no lookahead and no backreferences/);
    expect(() => compileLinearPattern("(a)\\1")).toThrow(/pattern "\(a\)\\\\1" cannot be run in linear time/);
  });

  it("refuses, at validation, a request-validation schema whose pattern only a backtracking engine can run", () => {
    const files = configFiles(
      [{ parameters: [{ name: "sku", in: "query", schema: { type: "string", pattern: "^(?!internal-).+$" } }], route: route(["v"], forward()) }],
      [builtinPolicy("v", "request-validation-inbound", "RequestValidationInboundPolicy", { validateQueryParameters: "reject-and-log" })],
    );
    const { diagnostics } = readConfig(snapshot(files));
    const found = diagnostics.filter((d) => d.rule === "schema-invalid");
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/query parameter "sku": pattern "\^\(\?!internal-\)\.\+\$" cannot be run in linear time/);
    // At the pattern itself, so the check run's annotation lands on the line that has to change.
    expect(found[0]).toMatchObject({ file: "config/routes.oas.json", pointer: "/paths/~1api~1v1~1orders/get/parameters/0/schema/pattern" });
    expect(files["config/routes.oas.json"]!.split("\n")[found[0]!.line - 1]).toContain('"pattern": "^(?!internal-).+$"');
  });

  it("accepts the same schema with a pattern RE2 can run", () => {
    const files = configFiles(
      [{ parameters: [{ name: "sku", in: "query", schema: { type: "string", pattern: "^(a+)+$" } }], route: route(["v"], forward()) }],
      [builtinPolicy("v", "request-validation-inbound", "RequestValidationInboundPolicy", { validateQueryParameters: "reject-and-log" })],
    );
    expect(readConfig(snapshot(files)).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });
});
