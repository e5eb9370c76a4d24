import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAppSettings } from "../../src/app/settings.js";
import { startGitway, type Running } from "../../src/app/start.js";

/** `npm start` with nothing set: the bundled shopkart example, its branches previewed, in Git mode. */
describe("the bundled example's previews", () => {
  let app: Running;

  beforeAll(async () => {
    const env: Record<string, string> = { PORT: "0", GATEWAY_PORT: "0", GITWAY_DATA_DIR: "memory://", GITWAY_POLL_SECONDS: "3600", GITWAY_ADMIN_TOKEN: "test-admin-token-0123456789", LOG_LEVEL: "fatal" };
    app = await startGitway(readAppSettings(env), env, { log: () => {}, workerIdleMs: 10 });
    await app.reconciler!.tick();
    await app.idle(60_000);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  for (const [name, keyed] of [
    ["branch-feature-stock-webhooks", "listOrders (GET /v1/orders)"],
    ["branch-feature-open-orders", "getStock (GET /v1/stock/{productId})"],
  ] as const) {
    it(`pass their smoke test: ${name}`, async () => {
      const env = await app.operations.environment(name);
      const smoke = (await app.operations.checks(name)).find((c) => c.name === "smoke" && c.commit === env.commit?.sha);
      expect(smoke).toMatchObject({ conclusion: "success" });
      expect(smoke!.summary).toContain("| getProduct (GET /v1/products/{productId}) | `GET /v1/products/p-100` | 200 | passed |");
      // A route behind the API key answered the test's minted key.
      expect(smoke!.summary).toMatch(new RegExp(`\\| ${keyed.replace(/[(){}/]/g, "\\$&")} \\| \`GET [^\`]+\` \\| 200 \\| passed \\|`));
      expect(env.smoke).toEqual({ conclusion: "success", title: smoke!.title });
      expect((await app.operations.keys(name)).map((k) => k.consumer)).toEqual([]);
    });
  }
});
