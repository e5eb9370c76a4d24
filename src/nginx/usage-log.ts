import { existsSync, mkdirSync } from "node:fs";
import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { CountedRoute, UsageCounter } from "../gateway/usage.js";

/** One logged call: what nginx's `gitway_usage` line carries once read. */
export interface LoggedCall {
  environment: string;
  routeId: string;
  /** "" when the call carried no credential the gateway knew. */
  consumer: string;
  status: number;
}

const MAX_CONSUMER = 128;
/** A usage line is short (labels come from the config); anything longer is not one and is skipped. */
const MAX_LINE = 4096;

/**
 * Reads one line of the usage log (`{"u":"<environment> <route>","c":"<consumer>","s":"<status>"}`,
 * no newline); undefined for anything else (a malformed or foreign line is skipped, never thrown
 * on). Pure.
 */
export function parseUsageLine(line: string): LoggedCall | undefined {
  if (line.length > MAX_LINE || line.charCodeAt(0) !== 123) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const { u, c, s } = v as Record<string, unknown>;
  if (typeof u !== "string" || typeof c !== "string" || typeof s !== "string") return undefined;
  const space = u.indexOf(" ");
  const status = Number(s);
  if (space < 1 || !/^[1-5]\d\d$/.test(s) || c.length > MAX_CONSUMER) return undefined;
  return { environment: u.slice(0, space), routeId: u.slice(space + 1), consumer: c, status };
}

/** The routes nginx serves, per environment label and route id: what a logged call may name. */
export type UsageRoutes = ReadonlyMap<string, ReadonlyMap<string, CountedRoute>>;

export interface UsageLogOptions {
  counter: UsageCounter;
  /** The file nginx appends to (the rendered `access_log`), absolute. */
  path: string;
  /** Makes nginx reopen its logs (SIGUSR1 to its master, or the operator's command); rejects when it could not. */
  reopen: () => Promise<void>;
  /** How long a rotated file stays open to lines nginx's workers still flush into it after the reopen. Default 2 s. */
  settleMs?: number;
  now?: () => number;
}

/** Bytes read at a time: a file of any size is read in this much memory (plus one partial line). */
const CHUNK = 256 * 1024;

/**
 * The agent's side of nginx's buffered usage log. A collection renames the file nginx appends to
 * (`usage.log` -> `usage.log.1`), asks nginx to reopen its logs (its workers flush their buffers
 * into the renamed file and start a new one) and counts the renamed file's complete lines. The
 * renamed file is read from an offset, so lines flushed into it after the reopen are counted at the
 * next collection, each once; it is deleted only at the next rotation once `settleMs` has passed
 * since the reopen. A partial last line waits for its end. Reading is chunked: memory stays bounded
 * whatever the file's size.
 */
export class UsageLogFile {
  private routes: UsageRoutes = new Map();
  private offset = 0;
  private reopenedAt = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;
  /** The file was renamed but nginx has not (yet) confirmed it reopened its logs. */
  private reopenPending = false;
  private readonly rotated: string;
  private readonly offsetFile: string;

  constructor(private readonly o: UsageLogOptions) {
    this.rotated = `${o.path}.1`;
    this.offsetFile = `${o.path}.1.offset`;
    // nginx's workers (another user when nginx starts as root) reopen the file by its path: they may
    // pass through the folder, not list it.
    mkdirSync(dirname(o.path), { recursive: true, mode: 0o711 });
  }

  /** Picks up where a previous agent left the rotated file (its offset), so no line is counted twice across a restart. */
  async resume(): Promise<void> {
    const saved = Number(await readFile(this.offsetFile, "utf8").catch(() => "0"));
    this.offset = Number.isSafeInteger(saved) && saved > 0 && existsSync(this.rotated) ? saved : 0;
    await rm(this.offsetFile, { force: true });
  }

  /** What the configuration nginx serves now names (set after each applied render). */
  serve(routes: UsageRoutes): void {
    this.routes = routes;
  }

  /** Counts one line; anything malformed, or naming what nginx does not serve, is skipped. */
  receive(line: string): void {
    const call = parseUsageLine(line);
    const route = call && this.routes.get(call.environment)?.get(call.routeId);
    if (!call || !route) return;
    this.o.counter.count(call.environment, route, call.consumer === "" ? undefined : call.consumer, call.status);
  }

  /**
   * Counts what nginx has logged: the rest of the rotated file, then (when the last reopen has
   * settled) a new rotation. With `stopped` nginx writes no more: both files are read to their end
   * and deleted. One collection runs at a time.
   */
  collect(stopped = false): Promise<void> {
    const next = (this.running ?? Promise.resolve()).catch(() => {}).then(() => this.collectOnce(stopped));
    this.running = next;
    return next;
  }

  /** An agent that stops while nginx keeps running: what nginx has flushed is counted, and the offset kept for the next agent. */
  async leave(): Promise<void> {
    await this.collect();
    if (existsSync(this.rotated)) await writeFile(this.offsetFile, String(this.offset));
  }

  private async collectOnce(stopped: boolean): Promise<void> {
    const now = this.o.now ?? Date.now;
    if (stopped) {
      await this.drain(this.rotated, this.offset, true);
      this.offset = await this.drain(this.o.path, 0, true);
      return;
    }
    if (existsSync(this.rotated)) {
      this.offset = await this.drain(this.rotated, this.offset, false);
      // nginx appends to the renamed file until it has reopened its logs: ask again before anything else.
      if (this.reopenPending) return await this.reopen(now);
      // Workers flush into the renamed file when they reopen: it is finished only once they all have.
      if (now() - this.reopenedAt < (this.o.settleMs ?? 2_000)) return;
      this.offset = await this.drain(this.rotated, this.offset, true);
    }
    if (!existsSync(this.o.path)) return;
    await rename(this.o.path, this.rotated);
    this.offset = 0;
    this.reopenPending = true;
    await this.reopen(now);
    this.offset = await this.drain(this.rotated, 0, false);
  }

  private async reopen(now: () => number): Promise<void> {
    await this.o.reopen();
    this.reopenPending = false;
    this.reopenedAt = now();
  }

  /**
   * Counts the complete lines of `path` from `from`; returns the offset after the last one. With
   * `finished` the file is read to its end (an unterminated last line is a write cut short: skipped) and deleted.
   */
  private async drain(path: string, from: number, finished: boolean): Promise<number> {
    let handle;
    try {
      handle = await open(path, "r");
    } catch {
      return 0;
    }
    let offset = from;
    try {
      const buffer = Buffer.alloc(CHUNK);
      let carry: Buffer = Buffer.alloc(0);
      let position = from;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        let chunk = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
        let start = 0;
        for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
          this.receive(chunk.subarray(start, nl).toString("utf8"));
          start = nl + 1;
        }
        offset += start;
        chunk = chunk.subarray(start);
        // A "line" longer than any usage line is skipped whole rather than held in memory.
        carry = chunk.length > MAX_LINE ? Buffer.alloc(0) : Buffer.from(chunk);
        if (chunk.length > MAX_LINE) offset += chunk.length;
      }
    } finally {
      await handle.close();
    }
    if (!finished) return offset;
    await rm(path, { force: true });
    return 0;
  }
}
