import { createSocket, type Socket } from "node:dgram";
import type { CountedRoute, UsageCounter } from "../gateway/usage.js";

/** One logged call: what nginx's `gitway_usage` line carries once read. */
export interface LoggedCall {
  environment: string;
  routeId: string;
  /** "" when the call carried no credential the gateway knew. */
  consumer: string;
  status: number;
}

// <PRI>Mmm dd hh:mm:ss gitway: {json}  (nohostname, tag=gitway: what the renderer asks nginx for)
const SYSLOG_LINE = /^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d gitway: (\{.*\})\s*$/s;
const MAX_CONSUMER = 128;

/**
 * Reads one syslog datagram of the usage log; undefined for anything else (a malformed or foreign
 * datagram is ignored, never thrown on). Pure.
 */
export function parseUsageLine(datagram: string): LoggedCall | undefined {
  const m = SYSLOG_LINE.exec(datagram);
  if (!m) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(m[1]!);
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

/**
 * The agent's loopback UDP listener for nginx's usage log: each call is counted in the same
 * in-memory counter (and flushed by the same flusher) as the Node gateway's. The environment and
 * route must be ones the agent renders; the operation is taken from the config, never from the line.
 */
export class UsageLogListener {
  private socket: Socket | undefined;
  private routes: UsageRoutes = new Map();

  constructor(private readonly counter: UsageCounter) {}

  /** Binds a free port on 127.0.0.1 and returns it (nginx is told it in the rendered configuration). */
  async listen(): Promise<number> {
    const socket = createSocket("udp4");
    socket.on("message", (msg) => this.receive(msg.toString("utf8")));
    // A socket error (none is expected on loopback) must not end the process; counting just stops.
    socket.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => (socket.off("error", reject), resolve()));
    });
    this.socket = socket;
    return socket.address().port;
  }

  /** What the configuration nginx serves now names (set after each applied render). */
  serve(routes: UsageRoutes): void {
    this.routes = routes;
  }

  /** Counts one datagram; anything malformed, or naming what nginx does not serve, is ignored. */
  receive(datagram: string): void {
    const call = parseUsageLine(datagram);
    const route = call && this.routes.get(call.environment)?.get(call.routeId);
    if (!call || !route) return;
    this.counter.count(call.environment, route, call.consumer === "" ? undefined : call.consumer, call.status);
  }

  close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    return new Promise((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
}
