import { describe, expect, it } from "vitest";
import { HYBRID_ROUTES_LISTED, hybridRoutesMarkdown } from "../../src/report/index.js";

describe("the deploy check's lines on routes nginx hands to the Node gateway", () => {
  it("says nothing when nginx serves every route itself", () => {
    expect(hybridRoutesMarkdown([])).toEqual([]);
  });

  it("lists each route once with its reason and the environments it holds for, with markdown from the config neutralised", () => {
    const reason = "request validation (check_*) for @team";
    expect(
      hybridRoutesMarkdown([
        { environment: "staging", route: "POST /orders/<b>", reason },
        { environment: "staging", route: "GET /stock", reason: "mock" },
        { environment: "production", route: "POST /orders/<b>", reason },
      ]),
    ).toEqual(["", "nginx hands 2 routes to the Node gateway behind it:", "- POST /orders/&lt;b&gt; (`staging`, `production`): request validation (check\\_\\*) for @\u200bteam", "- GET /stock (`staging`): mock"]);
  });

  it("lists the first routes of a long list and counts the rest, so a big config still fits a check run", () => {
    const routes = Array.from({ length: HYBRID_ROUTES_LISTED + 5 }, (_, i) => ({ environment: "production", route: `GET /r${i}`, reason: "mock" }));
    const lines = hybridRoutesMarkdown(routes);
    expect(lines[1]).toBe(`nginx hands ${HYBRID_ROUTES_LISTED + 5} routes to the Node gateway behind it:`);
    expect(lines).toHaveLength(HYBRID_ROUTES_LISTED + 3);
    expect(lines.at(-2)).toBe(`- GET /r${HYBRID_ROUTES_LISTED - 1} (\`production\`): mock`);
    expect(lines.at(-1)).toBe("- and 5 more (`gitway validate --engine nginx` lists them all)");
  });
});
