/** How the Node gateway's routes become nginx locations: segments, their match order, what nginx can match. */

/** The segment-by-segment order of src/gateway/path-match.ts: static segments before parameters. */
export function matchOrder(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const pa = PARAM.test(a[i]!) ? 1 : 0;
    const pb = PARAM.test(b[i]!) ? 1 : 0;
    if (pa !== pb) return pa - pb;
  }
  return a.length - b.length;
}

export function segments(template: string): string[] {
  const trimmed = template.length > 1 && template.endsWith("/") ? template.slice(0, -1) : template;
  return trimmed.split("/").slice(1);
}

/** A whole-segment path parameter, as src/gateway/path-match.ts reads one. */
export const PARAM = /^\{[^}]+\}$/;

/** Path characters that mean the same thing decoded (nginx's $uri) and encoded (the Node gateway's path). */
export const PLAIN_SEGMENT = /^[A-Za-z0-9._~!$&'()*+,;=:@-]*$/;

