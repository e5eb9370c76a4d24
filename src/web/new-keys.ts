import { randomBytes } from "node:crypto";

const HOLD_MS = 5 * 60 * 1000;
const MAX_HELD = 200;

interface Held {
  sid: string;
  label: string;
  consumer: string;
  key: string;
  expiresAt: number;
}

/**
 * A key just created, held in memory for the one page that shows it (after the form's redirect,
 * so reloading neither posts the form again nor shows the key again): bound to the session that
 * created it, taken once, gone after five minutes. The address carries only a random id.
 */
export class NewKeys {
  private readonly held = new Map<string, Held>();

  constructor(private readonly now: () => number) {}

  hold(sid: string, label: string, created: { consumer: string; key: string }): string {
    for (const [id, h] of this.held) if (h.expiresAt <= this.now()) this.held.delete(id);
    while (this.held.size >= MAX_HELD) this.held.delete(this.held.keys().next().value!);
    const id = randomBytes(12).toString("base64url");
    this.held.set(id, { sid, label, ...created, expiresAt: this.now() + HOLD_MS });
    return id;
  }

  take(id: string, sid: string, label: string): { consumer: string; key: string } | null {
    const h = this.held.get(id);
    if (!h || h.sid !== sid || h.label !== label) return null;
    this.held.delete(id);
    return h.expiresAt > this.now() ? { consumer: h.consumer, key: h.key } : null;
  }
}
