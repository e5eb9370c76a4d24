import { describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/index.js";
import { smokeCheck, type SmokeCheckRow } from "../../src/report/index.js";
import { planSmoke, runSmoke, type SendSmoke } from "../../src/smoke/index.js";
import { snapshot } from "../helpers.js";

const doc = {
  openapi: "3.1.0",
  info: { title: "t", version: "1" },
  servers: [{ url: "http://127.0.0.1:9" }],
  paths: Object.fromEntries(["/a", "/b", "/c"].map((p) => [p, { get: { operationId: p.slice(1), responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object" } } } } } } }])),
};
const config = readConfig(snapshot({ "openapi.json": JSON.stringify(doc) })).config!;
const plan = planSmoke(config, { maxRequests: 50, unsafe: false });

describe("replaying a smoke plan", () => {
  it("sends the requests one after the other, each with what is left of the time, and does not send what the time no longer covers", async () => {
    let clock = 0;
    const timeouts: number[] = [];
    // Each answer takes 600 ms of a 1 s budget.
    const send: SendSmoke = async (_r, timeoutMs) => {
      timeouts.push(timeoutMs);
      clock += 600;
      return { status: 200, contentType: "application/json", body: "{}" };
    };
    const rows = await runSmoke(config, plan, send, { budgetMs: 1_000, now: () => clock });
    expect(timeouts).toEqual([1_000, 400]);
    expect(rows.map((r) => [r.operation, r.verdict.outcome])).toEqual([
      ["a (GET /a)", "passed"],
      ["b (GET /b)", "passed"],
      ["c (GET /c)", "skipped"],
    ]);
    expect(rows[2]!.verdict).toEqual({ outcome: "skipped", reason: "the smoke test's 1 s were used up (previews.smoke.timeoutSeconds)" });
  });

  it("puts the minted key in the header the route names, after its scheme", async () => {
    const keyed = { ...plan, requests: plan.requests.slice(0, 1).map((r) => ({ ...r, key: { header: "authorization", scheme: "Bearer" } })) };
    const seen: Record<string, string>[] = [];
    await runSmoke(config, keyed, async (r) => (seen.push(r.headers), { status: 200, contentType: "application/json", body: "{}" }), { budgetMs: 1_000, key: "gw_smoke_x" });
    expect(seen).toEqual([{ authorization: "Bearer gw_smoke_x" }]);
  });
});

describe("the smoke check", () => {
  const row = (outcome: SmokeCheckRow["outcome"], reason?: string): SmokeCheckRow => ({ operation: `op-${outcome}`, request: outcome === "skipped" ? "" : "GET /x", status: outcome === "skipped" ? undefined : 200, outcome, ...(reason ? { reason } : {}) });
  const context = { environment: "pr-3", url: "http://acme-shop-pr-3.localhost:8787/" };
  const cases: { name: string; rows: SmokeCheckRow[]; conclusion: string; title: string }[] = [
    { name: "succeeds when every answer passed", rows: [row("passed"), row("skipped", "no example")], conclusion: "success", title: "1 answer as the description says" },
    { name: "fails on one failed answer, naming it and its error", rows: [row("passed"), row("failed", "body.id must be string"), row("unavailable", "upstream unavailable (502)")], conclusion: "failure", title: "1 of 3 answers breaks the description: op-failed: body.id must be string" },
    { name: "is neutral when the upstream was unavailable and nothing failed", rows: [row("passed"), row("unavailable", "upstream unavailable (504)")], conclusion: "neutral", title: "1 of 2 answers not judged: upstream unavailable (504); 1 as described" },
    { name: "is neutral when nothing could be sent", rows: [row("skipped", "no example")], conclusion: "neutral", title: "No operation could be replayed" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(smokeCheck(c.rows, context)).toMatchObject({ conclusion: c.conclusion, title: c.title });
    });
  }

  it("escapes what the description wrote, so an operation name cannot inject markdown", () => {
    const { summary } = smokeCheck([{ operation: "<img src=x> | @team", request: "GET /x", status: 200, outcome: "passed" }], context);
    expect(summary).toContain("&lt;img src=x&gt; \\| @\u200bteam");
  });
});
