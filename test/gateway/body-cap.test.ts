import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { forward, policiesFile, route, routesFile } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

/** The harness caps bodies at 1 MiB. */
const CAP = 1024 * 1024;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function setup() {
  const u = await startUpstream();
  closers.push(u.close);
  const files = { "config/routes.oas.json": routesFile([{ method: "post", route: route([], forward(u.url)) }]), "config/policies.json": policiesFile([]) };
  const g = await startGateway(files);
  closers.push(g.close);
  return { u, port: Number(new URL(g.url).port) };
}

/**
 * Talks HTTP/1.1 on a raw socket, as curl does: `head` first, then `body` parts, each sent only
 * once `when` says so (given everything received). Resolves with all that came back when the
 * connection closes or the final answer is complete.
 */
function exchange(port: number, head: string, parts: { when?: (received: string) => boolean; data: string | Buffer }[]): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    let next = 0;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(head);
      pump();
    });
    const pump = () => {
      while (next < parts.length && (parts[next]!.when?.(received) ?? true)) {
        if (!socket.writable) return;
        socket.write(parts[next++]!.data);
      }
    };
    const timer = setTimeout(() => done(), 8_000);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    socket.on("data", (c) => {
      received += c.toString("latin1");
      const final = /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n[\s\S]*?\r\n\r\n/.exec(received.replace(/HTTP\/1\.1 100 Continue\r\n\r\n/, ""));
      const length = final ? /content-length: (\d+)/i.exec(final[0]) : null;
      if (final && length && received.length >= received.indexOf(final[0]) + final[0].length + Number(length[1])) return done();
      pump();
    });
    socket.on("error", () => done());
    socket.on("close", () => done());
  });
}

const statusLines = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

describe("the gateway's body cap", () => {
  it("answers 413 for a declared body over the cap without calling the upstream", async () => {
    const { u, port } = await setup();
    const answer = await exchange(port, `POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: ${CAP + 1}\r\n\r\n`, [{ data: "x".repeat(1000) }]);
    expect(statusLines(answer)).toEqual([413]);
    expect(u.seen).toEqual([]);
  });

  it("answers 413 for a chunked body that grows past the cap, and the upstream never sees it", async () => {
    const { u, port } = await setup();
    const chunk = Buffer.alloc(64 * 1024, "y");
    const parts = Array.from({ length: 20 }, () => ({ data: Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) }));
    const answer = await exchange(port, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", [...parts, { data: "0\r\n\r\n" }]);
    expect(statusLines(answer)).toEqual([413]);
    expect(u.seen).toEqual([]);
  });

  it("forwards a chunked body under the cap whole, with its length", async () => {
    const { u, port } = await setup();
    const answer = await exchange(port, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", [{ data: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" }]);
    expect(statusLines(answer)).toEqual([200]);
    expect(u.seen.map((s) => [s.body, s.headers["content-length"], s.headers["transfer-encoding"]])).toEqual([["hello world", "11", undefined]]);
  });
});

describe("Expect: 100-continue", () => {
  it("is answered by the gateway, and the body reaches the upstream without the header", async () => {
    const { u, port } = await setup();
    const body = "z".repeat(2 * 1024);
    const answer = await exchange(port, `POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`, [{ when: (r) => r.startsWith("HTTP/1.1 100 Continue\r\n\r\n"), data: body }]);
    expect(statusLines(answer)).toEqual([100, 200]);
    expect(u.seen.map((s) => [s.body.length, s.headers.expect])).toEqual([[body.length, undefined]]);
  });

  it("gets 413 instead of 100 Continue when the declared body is over the cap", async () => {
    const { u, port } = await setup();
    const answer = await exchange(port, `POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: ${CAP + 1}\r\nExpect: 100-continue\r\n\r\n`, []);
    expect(statusLines(answer)).toEqual([413]);
    expect(u.seen).toEqual([]);
  });
});
