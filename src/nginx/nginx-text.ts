/**
 * Values written into an nginx configuration. nginx has no escape for `$` inside a string (it
 * always starts a variable), so a literal dollar is written as `${gw_dollar}`, a variable the
 * rendered http block defines as "$". Control characters cannot be written at all: the renderer
 * refuses them at their place rather than letting a header value end a directive.
 */
export class NginxRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NginxRenderError";
  }
}

/** A single-quoted nginx string whose value is `value` exactly (variables are not expanded). */
export function literal(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new NginxRenderError(`${what} holds a control character, which nginx cannot carry`);
  return "'" + value.replace(/[\\']/g, (c) => "\\" + c).replace(/\$/g, "${gw_dollar}") + "'";
}

/** A double-quoted regular expression for `location ~` or a `map` key (nginx expands no variables there). */
export function regex(pattern: string): string {
  return '"' + pattern.replace(/["\\]/g, (c) => "\\" + c) + '"';
}

/** Text that goes into a JSON string inside a single-quoted nginx string (a problem body written at render time). */
export function jsonText(value: string): string {
  return JSON.stringify(value).slice(1, -1).replace(/[\\']/g, (c) => "\\" + c).replace(/\$/g, "${gw_dollar}");
}

/** Regular-expression escape for a fixed piece of text. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Lines indented by n spaces (blank lines stay empty). */
export function indent(lines: string[], n: number): string {
  const pad = " ".repeat(n);
  return lines
    .join("\n")
    .split("\n")
    .map((l) => (l ? pad + l : l))
    .join("\n");
}
