import { createHmac } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_WEBHOOK_BYTES } from "../../src/github/webhook-body.js";
import { startApp, WEBHOOK_SECRET, type AppUnderTest } from "./app-harness.js";
import { deliver, example } from "./webhooks.js";

let t: AppUnderTest;
beforeAll(async () => {
  t = await startApp();
}, 60_000);
afterAll(async () => t?.close());

/** A signed POST of `size` bytes to the webhook path, declared or chunked; the status the app answers. */
function post(size: number, chunked: boolean): Promise<number> {
  const body = Buffer.alloc(size, 0x20);
  const signature = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`;
  const url = new URL("/api/github/webhooks", t.app.appUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "cap-test", "x-hub-signature-256": signature, ...(chunked ? {} : { "content-length": size }) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The app may answer and close before the whole body is sent: that is the point.
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    const step = 1024 * 1024;
    let sent = 0;
    const write = () => {
      while (sent < size) {
        const piece = body.subarray(sent, sent + step);
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

describe("a webhook body over 25 MB", () => {
  it("is refused with 413 before its signature is checked, whether its length is declared or not", async () => {
    expect(await post(MAX_WEBHOOK_BYTES + 1, false)).toBe(413);
    expect(await post(MAX_WEBHOOK_BYTES + 1024 * 1024, true)).toBe(413);
  }, 60_000);

  it("leaves a delivery within the cap to the signature check", async () => {
    expect((await deliver(t.app.appUrl, "ping", example("ping"), WEBHOOK_SECRET)).status).toBe(200);
    expect((await deliver(t.app.appUrl, "ping", example("ping"), WEBHOOK_SECRET, { signature: "sha256=" + "0".repeat(64) })).status).toBe(400);
  });
});
