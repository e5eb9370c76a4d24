import { RE2JS } from "re2js";

/** What Ajv (and the gateway) needs of a compiled pattern. */
export interface PatternTest {
  test(input: string): boolean;
}

/** A pattern the linear-time engine cannot run: a lookahead, a backreference, or not a regular expression at all. */
export class UnsupportedPatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
    notARegExp: boolean,
  ) {
    const quoted = JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern);
    super(notARegExp ? `pattern ${quoted} is not a regular expression (${reason})` : `pattern ${quoted} cannot be run in linear time (${reason}); Gitway runs patterns with RE2, which has no lookahead and no backreferences`);
    this.name = "UnsupportedPatternError";
  }
}

/**
 * A pattern written in a configuration, compiled for an engine whose time is linear in the input
 * (RE2). V8's backtracking engine takes exponential time on patterns such as `^(a+)+$`, and a
 * configuration under review (or any client sending a long value) must not be able to stall the
 * process that serves every environment. ECMAScript syntax is translated first (`\u0041`,
 * `(?<name>…)`, `[^]`), so the patterns JSON Schema and OpenAPI documents write keep their meaning.
 */
export function compileLinearPattern(pattern: string, options: { ignoreCase?: boolean } = {}): PatternTest {
  try {
    return RE2JS.compile(RE2JS.translateRegExp(pattern), options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(/^error parsing regexp: /, "") : String(e);
    // Compiling (never running) it natively tells a typo from a construct only RE2 lacks.
    const native = nativeSyntaxError(pattern);
    throw new UnsupportedPatternError(pattern, (native ?? reason).slice(0, 120), native !== undefined);
  }
}

function nativeSyntaxError(pattern: string): string | undefined {
  try {
    new RegExp(pattern, "u");
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Ajv's `code.regExp` engine: every `pattern` and `patternProperties` of a schema runs on RE2. */
export const linearRegExpEngine = Object.assign((pattern: string) => compileLinearPattern(pattern), {
  // Only read when Ajv writes standalone code, which it never does for a configuration's schemas.
  code: "linearRegExpEngine",
});
