import { describe, expect, it } from "vitest";
import type { Octokit } from "../../src/github/octokit.js";
import { RateLimitedError } from "../../src/github/request-limits.js";
import { WritePacing } from "../../src/github/write-pacing.js";
import { GitHubWriters, type PendingWrite, type WriteLane } from "../../src/github/writer.js";

// The writer only hands its client to the writes; these record what they were asked to send.
const client = {} as Octokit;

function recorder() {
  const sent: string[] = [];
  const logs: string[] = [];
  const writers = new GitHubWriters((level, message) => void logs.push(`${level}: ${message}`));
  const write = (key: string, what: string, lane: WriteLane = "feedback", send?: () => Promise<void>): PendingWrite => ({ key, lane, send: send ?? (async () => void sent.push(what)) });
  return { sent, logs, writers, write };
}

/** A write that is sent only when the returned function is called: the writer is busy until then. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe("an installation's writer", () => {
  it("replaces a write still waiting by a newer one for the same thing, which keeps the older one's turn", async () => {
    const { sent, writers, write } = recorder();
    const w = writers.of(1, client);
    const busy = gate();
    w.enqueue(write("first", "first", "feedback", () => busy.opened.then(() => void sent.push("first"))));
    w.enqueue(write("check a", "a in progress"));
    w.enqueue(write("check b", "b done"));
    w.enqueue(write("check a", "a done"));
    busy.open();
    await writers.idle();
    expect(sent).toEqual(["first", "a done", "b done"]);
  });

  it("sends what a reviewer waits for before the records, whatever the order they were handed over", async () => {
    const { sent, writers, write } = recorder();
    const w = writers.of(1, client);
    const busy = gate();
    w.enqueue(write("first", "first", "feedback", () => busy.opened.then(() => void sent.push("first"))));
    w.enqueue(write("deployment pr-1", "deployment", "record"));
    w.enqueue(write("check a", "check"));
    w.enqueue(write("comment #1", "comment"));
    busy.open();
    await writers.idle();
    expect(sent).toEqual(["first", "check", "comment", "deployment"]);
  });

  it("logs a write that fails and sends the next", async () => {
    const { sent, logs, writers, write } = recorder();
    const w = writers.of(1, client);
    w.enqueue(write("check a", "a", "feedback", async () => Promise.reject(new Error("GitHub said 500"))));
    w.enqueue(write("check b", "b"));
    await writers.idle();
    expect(sent).toEqual(["b"]);
    expect(logs).toEqual(["warn: GitHub write check a for installation 1 failed: GitHub said 500"]);
  });

  it("waits out a rate limit met by a write, then sends that write first", async () => {
    const { sent, writers, write } = recorder();
    const w = writers.of(1, client);
    let tries = 0;
    const began = Date.now();
    w.enqueue(write("check a", "a", "feedback", async () => (tries++ === 0 ? Promise.reject(new RateLimitedError(new Date(Date.now() + 300))) : void sent.push("a"))));
    w.enqueue(write("check b", "b"));
    await writers.idle();
    expect(sent).toEqual(["a", "b"]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
  });

  it("leaves its installation nothing to burst with after a rate limit, and another installation its whole burst", async () => {
    const pacing = new WritePacing({ burst: 20, intervalMs: 1_000 });
    const logs: string[] = [];
    const writers = new GitHubWriters((level, message) => void logs.push(`${level}: ${message}`), pacing);
    let tries = 0;
    writers.of(1, client).enqueue({ key: "check a", lane: "feedback", send: async () => (tries++ === 0 ? Promise.reject(new RateLimitedError(new Date(Date.now() + 200))) : undefined) });
    await writers.idle();
    expect(tries).toBe(2);
    expect(pacing.available("1")).toBe(0);
    expect(pacing.available("2")).toBe(20);
  });

  it("never holds one installation's writes behind another's", async () => {
    const { sent, writers, write } = recorder();
    const held = gate();
    writers.of(1, client).enqueue(write("check a", "one", "feedback", () => held.opened.then(() => void sent.push("one"))));
    writers.of(2, client).enqueue(write("check a", "two"));
    await writers.of(2, client).idle();
    expect(sent).toEqual(["two"]);
    held.open();
    await writers.idle();
    expect(sent).toEqual(["two", "one"]);
  });

  it("drops what still waits when closed after its grace, and says how much", async () => {
    const { sent, logs, writers, write } = recorder();
    const w = writers.of(1, client);
    const held = gate();
    w.enqueue(write("check a", "a", "feedback", () => held.opened.then(() => void sent.push("a"))));
    w.enqueue(write("check b", "b"));
    await writers.close(50);
    held.open();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual(["a"]);
    expect(logs).toEqual(["warn: 1 GitHub write(s) for installation 1 not sent: the process stopped first"]);
  });

  it("says when a job's writes were sent: after the newest write of each of its keys, not before", async () => {
    const { sent, writers, write } = recorder();
    const w = writers.of(1, client);
    const busy = gate();
    w.enqueue(write("check a", "a in progress", "feedback", () => busy.opened.then(() => void sent.push("a in progress"))));
    w.enqueue(write("check b", "b done"));
    w.enqueue(write("deployment pr-1", "deployment", "record"));
    let done: string[] | undefined;
    void w.whenSent(["check a", "check b", "deployment pr-1"]).then(() => (done = [...sent]));
    // A newer state of check a arrives while its older one is being sent: the job waits for that one too.
    w.enqueue(write("check a", "a done"));
    busy.open();
    await writers.idle();
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toEqual(["a in progress", "b done", "a done", "deployment"]);
    await expect(w.whenSent(["check a", "never handed over"])).resolves.toBeUndefined();
  });

  it("never says a job's writes were sent when the process stopped before sending them", async () => {
    const { writers, write } = recorder();
    const w = writers.of(1, client);
    const held = gate();
    w.enqueue(write("check a", "a", "feedback", () => held.opened));
    w.enqueue(write("check b", "b"));
    let sentAll = false;
    void w.whenSent(["check a", "check b"]).then(() => (sentAll = true));
    await writers.close(20);
    held.open();
    await new Promise((r) => setTimeout(r, 20));
    expect(sentAll).toBe(false);
  });
});
