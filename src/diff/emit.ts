import type { DocumentSet, Location } from "../config/index.js";
import { fingerprintOf, sourceFingerprintOf, type AffectedPlace, type Change, type ChangeDetail, type ChangeLevel, type ChangePlace } from "./change.js";
import { CHANGE_RULES } from "./rules.js";

/** A change made once at a shared place (a component schema, a policy) and met through several operations. */
interface SourceGroup {
  change: Change;
  /** The message when the change is read from the source, used once more than one place is affected. */
  sourceMessage: string;
  /** The message when exactly one operation reaches it: as precise as a per-operation change. */
  singleMessage: string;
  seen: Set<string>;
}

/**
 * Builds changes with their rule's level and category and both sides placed at line and column.
 * A change at a shared source is one change with the list of what it affects; the same change
 * met twice (one component reached along two paths) is kept once, and two different changes
 * are never merged (their rule, places and wording all count).
 */
export class ChangeSink {
  private readonly list: Change[] = [];
  private readonly sources = new Map<string, SourceGroup>();
  private readonly keys = new Set<string>();

  constructor(
    private readonly baseDocs: DocumentSet,
    private readonly headDocs: DocumentSet,
    /** One change per operation reaching a shared source, as before grouping (for comparison and per-operation consumers). */
    private readonly perOperation = false,
  ) {}

  /** A change of one operation (or of the whole config when `operation` is undefined). */
  add(rule: string, operation: string | undefined, message: string, base?: Location, head?: Location, fold?: () => { level: ChangeLevel; details: ChangeDetail[] }): void {
    const key = `${rule}\u0000${operation ?? ""}\u0000${message}\u0000${base?.file}#${base?.pointer}\u0000${head?.file}#${head?.pointer}`;
    if (this.keys.has(key)) return;
    this.keys.add(key);
    const change = this.make(rule, operation, message, fingerprintOf(rule, operation, message), base, head);
    if (fold) Object.assign(change, fold());
    this.list.push(change);
  }

  /**
   * A change made at one place that `affected` reaches. `at.detail` says what changed there (it
   * and the places identify the change; `at.key`, when given, is that identity already written
   * out). `wording` gives the message for readers of the source and the one for when a single
   * operation is all it affects; it is asked once per change, not once per operation.
   */
  addAtSource(rule: string, at: SourceAt, affected: AffectedPlace, wording: () => { source: string; single: string }, fold?: () => { level: ChangeLevel; details: ChangeDetail[] }): void {
    const key = `${rule}\u0000${at.spread ? at.detail : (at.key ?? sourceKey(at))}`;
    let group = this.sources.get(key);
    if (!group) {
      const { source, single } = wording();
      if (this.perOperation) {
        this.add(rule, affected.operation, single, at.base, at.head, fold);
        return;
      }
      const fingerprint = at.spread ? sourceFingerprintOf(rule, undefined, undefined, at.detail) : sourceFingerprintOf(rule, at.base, at.head, at.detail);
      const change = this.make(rule, affected.operation, single, fingerprint, at.base, at.head);
      if (fold) Object.assign(change, fold());
      change.affected = [];
      group = { change, sourceMessage: source, singleMessage: single, seen: new Set() };
      this.sources.set(key, group);
      this.list.push(change);
    } else if (this.perOperation) {
      this.add(rule, affected.operation, wording().single, at.base, at.head, fold);
      return;
    }
    const seenKey = `${affected.operation}\u0000${affected.where}`;
    if (group.seen.has(seenKey)) return;
    group.seen.add(seenKey);
    group.change.affected!.push(affected);
  }

  /** The changes in the order found, each source change worded for how many places it affects. */
  get changes(): Change[] {
    for (const g of this.sources.values()) {
      const affected = g.change.affected!;
      const operations = new Set(affected.map((a) => a.operation));
      g.change.message = affected.length === 1 ? g.singleMessage : g.sourceMessage;
      g.change.operation = operations.size === 1 ? affected[0]!.operation : undefined;
    }
    return this.list;
  }

  private make(rule: string, operation: string | undefined, message: string, fingerprint: string, base?: Location, head?: Location): Change {
    const def = CHANGE_RULES[rule];
    if (!def) throw new Error(`unregistered change rule ${rule}`);
    const change: Change = { fingerprint, rule, level: def.level, category: def.category, operation, message };
    if (base) change.base = place(this.baseDocs, base);
    if (head) change.head = place(this.headDocs, head);
    return change;
  }
}

/** Where a shared-source change is and what changed there. */
export interface SourceAt {
  detail: string;
  base?: Location;
  head?: Location;
  /** sourceKey(this), when the caller keeps it already. */
  key?: string;
  /**
   * The same change written in several places (each route's own copy of an upstream URL): one
   * change for all of them, identified by what changed alone, placed where it was first met.
   */
  spread?: boolean;
}

/** The identity of a change at its source: both places and what changed. */
export function sourceKey(at: SourceAt): string {
  return `${at.base?.file}#${at.base?.pointer}\u0000${at.head?.file}#${at.head?.pointer}\u0000${at.detail}`;
}

/** At the key of the node that changed, so a change to a property points at the property's own line, not the line after it. */
function place(docs: DocumentSet, at: Location): ChangePlace {
  return { file: at.file, pointer: at.pointer, ...docs.locate(at, "key") };
}
