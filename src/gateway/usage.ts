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

/** 1 to 5: the hundreds digit, out-of-range codes clamped (CLASSES names it). */
function classIndex(status: number): number {
  return Math.min(5, Math.max(1, Math.floor(status / 100)));
}

export function statusClassOf(status: number): StatusClass {
  return CLASSES[classIndex(status)]!;
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

/** One route's rows of the current hour, by status class index (1 to 5). */
type Cells = (UsageRow | undefined)[];

/**
 * A shortcut to the rows one route of one environment counts into, valid for one epoch of the
 * counter: a repeated call then costs an identity lookup and a property read, not a string key
 * built and hashed per request.
 */
interface RouteTally {
  environment: string;
  epoch: number;
  anonymous: Cells;
  byConsumer: Map<string, Cells>;
}

/** The in-memory buckets of one gateway process. */
export class UsageCounter {
  private rows = new Map<string, UsageRow>();
  private droppedCalls = 0;
  private readonly maxRows: number;
  private readonly now: () => number;
  // The hour being counted, [hourStart, hourEnd): a call inside it skips the bucket arithmetic.
  private hourStart = Infinity;
  private hourEnd = -Infinity;
  // Bumped when the rows the tallies point at stop being the ones to count into (a drain, a new hour).
  private epoch = 0;
  // Keyed by the route object itself: a release swapped out takes its tallies with it.
  private readonly tallies = new WeakMap<CountedRoute, RouteTally>();

  constructor(options: UsageCounterOptions = {}) {
    this.maxRows = options.maxRows ?? DEFAULT_MAX_USAGE_ROWS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Counts one answered call. It runs on every request, so a call already seen this hour goes
   * through the route's tally (a clock read, a WeakMap and a Map lookup); only the first call of
   * a row in an hour, or one after a drain, builds the row's string key.
   */
  count(environment: string, route: CountedRoute, consumer: string | undefined, status: number): void {
    const now = this.now();
    if (now >= this.hourEnd || now < this.hourStart) this.enterHour(now);
    let tally = this.tallies.get(route);
    if (tally === undefined || tally.environment !== environment) {
      tally = { environment, epoch: this.epoch, anonymous: [], byConsumer: new Map() };
      this.tallies.set(route, tally);
    } else if (tally.epoch !== this.epoch) {
      tally.epoch = this.epoch;
      tally.anonymous = [];
      tally.byConsumer = new Map();
    }
    let cells: Cells | undefined;
    if (consumer === undefined) cells = tally.anonymous;
    else {
      cells = tally.byConsumer.get(consumer);
      if (cells === undefined) tally.byConsumer.set(consumer, (cells = []));
    }
    const cls = classIndex(status);
    const row = cells[cls];
    if (row !== undefined) {
      row.count++;
      return;
    }
    const added = this.countByKey(this.hourStart, environment, route, consumer ?? ANONYMOUS, CLASSES[cls]!);
    if (added !== undefined) cells[cls] = added;
  }

  /** The row a call counts into, found or added by its key; undefined when the buffer is full (the call is dropped). */
  private countByKey(hour: number, environment: string, route: CountedRoute, consumer: string, status: StatusClass): UsageRow | undefined {
    const key = `${hour}\u0000${environment}\u0000${route.id}\u0000${consumer}\u0000${status}`;
    const row = this.rows.get(key);
    if (row) {
      row.count++;
      return row;
    }
    if (this.rows.size >= this.maxRows) {
      this.droppedCalls++;
      return undefined;
    }
    const added: UsageRow = { hour, environment, operation: route.operation, route: route.id, consumer, status, count: 1 };
    this.rows.set(key, added);
    return added;
  }

  private enterHour(now: number): void {
    this.hourStart = now - (now % HOUR_MS);
    this.hourEnd = this.hourStart + HOUR_MS;
    this.epoch++;
  }

  /** Takes every bucket (the counter starts empty); hand them back with `restore` when they could not be stored. */
  drain(): UsageRow[] {
    const out = [...this.rows.values()];
    this.rows = new Map();
    this.epoch++;
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
