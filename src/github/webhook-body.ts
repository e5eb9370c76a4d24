import type { IncomingMessage } from "node:http";

/** GitHub caps a webhook delivery's payload at 25 MB; nothing larger is read, let alone verified. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

/**
 * The body of a webhook delivery as text, read up to `maxBytes` before anything else looks at it
 * (the signature check included); "too-large" as soon as the declared length or the bytes read pass it.
 */
export function readWebhookBody(req: IncomingMessage, maxBytes = MAX_WEBHOOK_BYTES): Promise<string | "too-large"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve("too-large");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        req.off("data", onData);
        // Stop buffering; the rest is drained unread so the 413 can still be answered.
        req.resume();
        resolve("too-large");
      } else chunks.push(c);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
