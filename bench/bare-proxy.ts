/**
 * The floor for any Node.js proxy on this machine: node:http in, undici keep-alive pool out, the
 * body streamed back, nothing else (no routing, no policies). argv: <upstream url> <port>
 */
import { createServer } from "node:http";
import type { Writable } from "node:stream";
import { Pool } from "undici";

const [upstream, port] = process.argv.slice(2) as [string, string];
const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });
createServer((req, res) => {
  pool
    .stream({ path: req.url!, method: "GET", headers: { "x-forwarded-for": req.socket.remoteAddress ?? "" } }, ({ statusCode, headers }) => {
      res.writeHead(statusCode, headers as Record<string, string>);
      return res as unknown as Writable;
    })
    .catch(() => {
      res.statusCode = 502;
      res.end();
    });
}).listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
