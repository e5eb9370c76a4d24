import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SEED_DIR } from "../helpers.js";
import { gitway } from "./run-cli.js";

const SHOPKART = fileURLToPath(new URL("../../examples/shopkart", import.meta.url));

describe("gitway validate --engine nginx", () => {
  it("names each route nginx would hand to the Node gateway, with the reason", () => {
    const r = gitway(["validate", SHOPKART, "--engine", "nginx"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("nginx: POST /v1/orders goes to the Node gateway behind nginx: request validation");
    expect(r.stderr).toContain("nginx hands 1 route to the Node gateway");
  });

  it("says when nginx serves every route itself", () => {
    const r = gitway(["validate", SEED_DIR, "--engine", "nginx"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("goes to the Node gateway");
    expect(r.stderr).toContain("nginx serves every route itself");
  });

  it("gives the same answer as JSON", () => {
    const r = gitway(["validate", SHOPKART, "--engine", "nginx", "--format", "json"]);
    const out = JSON.parse(r.stdout) as { nginx: { ok: boolean; hybridRoutes: { route: string; reason: string }[] } };
    expect(out.nginx.ok).toBe(true);
    expect(out.nginx.hybridRoutes.map((h) => h.route)).toEqual(["POST /v1/orders"]);
  });

  it("leaves plain validate's output as it was, and refuses an engine it does not know", () => {
    expect(JSON.parse(gitway(["validate", SHOPKART, "--format", "json"]).stdout)).not.toHaveProperty("nginx");
    const r = gitway(["validate", SHOPKART, "--engine", "envoy"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--engine must be node or nginx");
  });
});
