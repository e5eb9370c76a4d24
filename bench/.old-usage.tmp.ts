/**
 * Calls counted where they are answered: per environment, operation, consumer and status class, in
 * one-hour buckets held in memory. Pure: no clock but the one passed in, no I/O; a flusher
 * (src/store/usage.ts, an adapter) drains the buckets into the store and puts them back when the
 * store is away.
 */

export const HOUR_MS = 3_600_000;

/** Distinct bucket rows held before new ones are dropped (a store away for long, or keys without end). */
export const DEFAULT_MAX_USAGE_ROWS = 100_000;

/** The name counted when a request carried no credential the gateway knew. */
export const ANONYMOUS = "anonymous";

export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx";

const CLASSES: readonly StatusClass[] = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

export function statusClassOf(status: number): StatusClass {
  return CLASSES[Math.min(5, Math.max(1, Math.floor(status / 100)))]!;
}

/** One bucket: how many calls one consumer made to one operation of one environment in one hour. */
export interface UsageRow {
  /** Start of the hour, epoch milliseconds. */
  hour: number;
  /** The environment's label (unique across repositories). */
  environment: string;
  /** The operationId, or "METHOD /path/{template}" when the operation has none. */
  operation: string;
  /** "METHOD /path/{template}": what a change report names, so the two can be joined. */
  route: string;
  consumer: string;
  status: StatusClass;
  count: number;
}

/** What a route tells the counter about itself (a compiled route carries both). */
export interface CountedRoute {
  id: string;
  operation: string;
}

export interface UsageCounterOptions {
  maxRows?: number;
  now?: () => number;
}

/** The in-memory buckets of one gateway process. */
export class UsageCounter {
  private rows = new Map<string, UsageRow>();
  private droppedCalls = 0;
  private readonly maxRows: number;
  private readonly now: () => number;

  constructor(options: UsageCounterOptions = {}) {
    this.maxRows = options.maxRows ?? DEFAULT_MAX_USAGE_ROWS;
    this.now = options.now ?? Date.now;
  }

  /** Counts one answered call. Costs a string key and a map lookup: it runs on every request. */
  count(environment: string, route: CountedRoute, consumer: string | undefined, status: number): void {
    const now = this.now();
    const hour = now - (now % HOUR_MS);
    const who = consumer ?? ANONYMOUS;
    const cls = statusClassOf(status);
    const key = `${hour}\u0000${environment}\u0000${route.id}\u0000${who}\u0000${cls}`;
    const row = this.rows.get(key);
    if (row) {
      row.count++;
      return;
    }
    if (this.rows.size >= this.maxRows) {
      this.droppedCalls++;
      return;
    }
    this.rows.set(key, { hour, environment, operation: route.operation, route: route.id, consumer: who, status: cls, count: 1 });
  }

  /** Takes every bucket (the counter starts empty); hand them back with `restore` when they could not be stored. */
  drain(): UsageRow[] {
    const out = [...this.rows.values()];
    this.rows = new Map();
    return out;
  }

  /** Puts drained rows back, added to what was counted meanwhile; rows beyond the bound are dropped and counted. */
  restore(rows: readonly UsageRow[]): void {
    for (const r of rows) {
      const key = `${r.hour}\u0000${r.environment}\u0000${r.route}\u0000${r.consumer}\u0000${r.status}`;
      const row = this.rows.get(key);
      if (row) row.count += r.count;
      else if (this.rows.size < this.maxRows) this.rows.set(key, { ...r });
      else this.droppedCalls += r.count;
    }
  }

  /** Calls not counted since the last call of this method, because the buffer was full. */
  takeDropped(): number {
    const n = this.droppedCalls;
    this.droppedCalls = 0;
    return n;
  }

  /** Distinct bucket rows held. */
  get size(): number {
    return this.rows.size;
  }
}
