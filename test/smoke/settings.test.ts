import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, readConfig } from "../../src/config/index.js";
import { snapshot } from "../helpers.js";

const OPENAPI = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: 1.0.0\nservers:\n  - url: https://pets.example.com\npaths: {}\n";

function read(settings: string) {
  const { config, diagnostics } = readConfig(snapshot({ ".github/gitway.yml": settings, "openapi.yaml": OPENAPI }));
  return { smoke: config?.settings.previews.smoke, errors: diagnostics.filter((d) => d.rule === "settings-invalid").map((d) => `${d.line}:${d.column} ${d.message}`) };
}

describe("previews.smoke in .github/gitway.yml", () => {
  it("is on by default, with 50 requests, 30 s and safe methods only", () => {
    expect(DEFAULT_SETTINGS.previews.smoke).toEqual({ enabled: true, maxRequests: 50, timeoutSeconds: 30, unsafe: false });
    expect(read("comment: true\n").smoke).toEqual(DEFAULT_SETTINGS.previews.smoke);
  });

  it("is turned off by `off`", () => {
    expect(read("previews:\n  smoke: off\n")).toEqual({ smoke: { enabled: false, maxRequests: 50, timeoutSeconds: 30, unsafe: false }, errors: [] });
  });

  it("takes lower limits and unsafe methods", () => {
    expect(read("previews:\n  smoke:\n    maxRequests: 5\n    timeoutSeconds: 10\n    unsafe: true\n")).toEqual({ smoke: { enabled: true, maxRequests: 5, timeoutSeconds: 10, unsafe: true }, errors: [] });
  });

  const refused: [string, string, string][] = [
    ["more than 50 requests", "previews:\n  smoke:\n    maxRequests: 51\n", "3:18 previews › smoke › maxRequests: must be <= 50"],
    ["more than 30 seconds", "previews:\n  smoke:\n    timeoutSeconds: 31\n", "3:21 previews › smoke › timeoutSeconds: must be <= 30"],
    ["no requests at all", "previews:\n  smoke:\n    maxRequests: 0\n", "3:18 previews › smoke › maxRequests: must be >= 1"],
    ["a fraction of a request", "previews:\n  smoke:\n    maxRequests: 2.5\n", "3:18 previews › smoke › maxRequests: must be integer"],
    ["unsafe as a word", "previews:\n  smoke:\n    unsafe: yes\n", "3:13 previews › smoke › unsafe: must be boolean"],
    ["a key it does not know", "previews:\n  smoke:\n    methods: [POST]\n", '3:5 previews › smoke: property "methods" is not allowed here (extensions must start with x-)'],
    ["a word other than off", "previews:\n  smoke: on\n", '2:10 previews › smoke: must be one of "off"'],
  ];
  for (const [what, yaml, error] of refused) {
    it(`refuses ${what}, at its line, and the defaults apply`, () => {
      expect(read(yaml)).toEqual({ smoke: DEFAULT_SETTINGS.previews.smoke, errors: [error] });
    });
  }
});
