import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const COOKIE = "gitway_session";
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Signed-in sessions held at once; the oldest is dropped past this (each needs the admin token). */
const MAX_SESSIONS = 1000;
const FAILURE_WINDOW_MS = 10 * 60 * 1000;
/** Wrong tokens from one address within the window before sign-in is refused for a while. */
export const MAX_FAILURES = 10;

/**
 * Who acts. Only the admin token signs in today; `via` leaves room for GitHub sign-in later
 * (the actor would then be the GitHub login).
 */
export interface Session {
  actor: string;
  via: "token";
  expiresAt: number;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function sameText(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Every visitor has a random session id in an HttpOnly, SameSite=Strict cookie; signing in
 * swaps it for a new one (no fixation). The CSRF token of a form is an HMAC of that id under
 * a key that lives only in this process, so it needs no storage and dies with the cookie.
 */
export class Sessions {
  private readonly key = randomBytes(32);
  private readonly signedIn = new Map<string, Session>();
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  newId(): string {
    return randomBytes(24).toString("base64url");
  }

  csrfToken(sid: string): string {
    return createHmac("sha256", this.key).update(`csrf:${sid}`).digest("base64url");
  }

  checkCsrf(sid: string | undefined, token: string | undefined): boolean {
    return !!sid && !!token && sameText(this.csrfToken(sid), token);
  }

  get(sid: string | undefined): Session | undefined {
    if (!sid) return undefined;
    const s = this.signedIn.get(sid);
    if (s && s.expiresAt <= this.now()) {
      this.signedIn.delete(sid);
      return undefined;
    }
    return s;
  }

  signIn(actor: string): string {
    for (const [id, s] of this.signedIn) if (s.expiresAt <= this.now()) this.signedIn.delete(id);
    while (this.signedIn.size >= MAX_SESSIONS) this.signedIn.delete(this.signedIn.keys().next().value!);
    const sid = this.newId();
    this.signedIn.set(sid, { actor, via: "token", expiresAt: this.now() + SESSION_TTL_MS });
    return sid;
  }

  signOut(sid: string | undefined): void {
    if (sid) this.signedIn.delete(sid);
  }

  /** Wrong tokens from this address in the last few minutes, this one included. */
  recordFailure(address: string): number {
    const since = this.now() - FAILURE_WINDOW_MS;
    const recent = (this.failures.get(address) ?? []).filter((t) => t > since);
    recent.push(this.now());
    this.failures.set(address, recent);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
    return recent.length;
  }

  tooManyFailures(address: string): boolean {
    const since = this.now() - FAILURE_WINDOW_MS;
    return (this.failures.get(address) ?? []).filter((t) => t > since).length >= MAX_FAILURES;
  }

  cookie(sid: string, secure: boolean, signedIn: boolean): string {
    return `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Strict${signedIn ? `; Max-Age=${SESSION_TTL_MS / 1000}` : ""}${secure ? "; Secure" : ""}`;
  }
}

/** The admin token compared in constant time; an empty token signs nobody in. */
export function isAdminToken(adminToken: string, given: string): boolean {
  return adminToken.length > 0 && sameText(adminToken, given);
}
