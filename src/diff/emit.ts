import type { DocumentSet, Location } from "../config/index.js";
import { fingerprintOf, type Change, type ChangePlace } from "./change.js";
import { CHANGE_RULES } from "./rules.js";

/** Builds changes with their rule's level and category and both sides placed at line and column. */
export class ChangeSink {
  readonly changes: Change[] = [];

  constructor(
    private readonly baseDocs: DocumentSet,
    private readonly headDocs: DocumentSet,
  ) {}

  add(rule: string, operation: string | undefined, message: string, base?: Location, head?: Location): void {
    const def = CHANGE_RULES[rule];
    if (!def) throw new Error(`unregistered change rule ${rule}`);
    const change: Change = { fingerprint: fingerprintOf(rule, operation, message), rule, level: def.level, category: def.category, operation, message };
    if (base) change.base = place(this.baseDocs, base);
    if (head) change.head = place(this.headDocs, head);
    this.changes.push(change);
  }
}

function place(docs: DocumentSet, at: Location): ChangePlace {
  return { file: at.file, pointer: at.pointer, ...docs.locate(at) };
}
