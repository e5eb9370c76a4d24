import pg from "pg";
import type { Log } from "./log.js";

export interface Listening {
  close(): Promise<void>;
}

/**
 * LISTENs on PostgreSQL channels with a connection of its own. A notification sent while the
 * connection was down is never delivered, so after each reconnection (backing off up to 5 s)
 * `resync` runs: the caller re-reads what the channel announces rather than trusting it missed nothing.
 */
export function listenToStore(options: {
  databaseUrl: string;
  channels: string[];
  applicationName: string;
  onNotify: (channel: string, payload: string) => void;
  resync: () => Promise<void>;
  log: Log;
  /** What the log lines say is listening, e.g. "gateway worker 12: release" (default: the channels). */
  name?: string;
}): Promise<Listening> {
  const { log } = options;
  const name = options.name ?? options.channels.join(", ");
  let closed = false;
  let client: pg.Client | undefined;
  let reconnecting = false;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.databaseUrl, application_name: options.applicationName, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (why: string) => {
      if (lost || closed) return;
      lost = true;
      log("warn", `${name} notifications lost (${why}); reconnecting`);
      c.end().catch(() => {});
      void reconnect();
    };
    c.on("error", (e) => onLost(e.message));
    c.on("end", () => onLost("connection ended"));
    c.on("notification", (n) => options.onNotify(n.channel, n.payload ?? ""));
    try {
      await c.connect();
      for (const channel of options.channels) await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (e) {
      lost = true;
      c.end().catch(() => {});
      throw e;
    }
    client = c;
  };

  const reconnect = async () => {
    if (reconnecting) return;
    reconnecting = true;
    for (let delay = 100; !closed; delay = Math.min(5_000, delay * 2)) {
      await new Promise((r) => setTimeout(r, delay));
      if (closed) break;
      try {
        await connect();
        await options.resync();
        log("info", `${name} notifications: listening again; everything they announce re-read`);
        break;
      } catch (e) {
        const half = client;
        client = undefined;
        await half?.end().catch(() => {});
        log("warn", `${name} notifications: reconnecting failed (${e instanceof Error ? e.message : String(e)}); trying again`);
      }
    }
    reconnecting = false;
  };

  return connect().then(() => ({
    close: async () => {
      closed = true;
      await client?.end().catch(() => {});
    },
  }));
}
