import { createServer } from "node:net";

/** A loopback port this test chose and checked is free, for a server that must be told its port (nginx cannot say which one 0 gave it; several gateway processes share one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
