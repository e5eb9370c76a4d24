import type { RuleId } from "../diagnostics.js";

export interface DecodeProblem {
  rule: RuleId;
  message: string;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`;
}

/** File bytes to text, or the one reason they cannot be config: too large, binary, not UTF-8, empty. */
export function decodeText(content: string | Uint8Array | { size: number }, maxBytes: number): { text: string } | DecodeProblem {
  const size = typeof content === "string" ? Buffer.byteLength(content) : content instanceof Uint8Array ? content.byteLength : content.size;
  if (size > maxBytes) {
    return { rule: "file-too-large", message: `File is ${formatBytes(size)}, over the ${formatBytes(maxBytes)} limit (raise it with --max-file-bytes or GITWAY_MAX_FILE_BYTES); it was not read` };
  }
  let text: string;
  if (!(content instanceof Uint8Array) && typeof content !== "string") {
    return { rule: "file-too-large", message: `File is ${formatBytes(size)}; it was not read` };
  }
  if (typeof content === "string") {
    text = content;
    if (text.includes("\u0000")) return { rule: "file-not-text", message: "File is binary (it contains NUL characters), not JSON or YAML text" };
  } else {
    // Valid UTF-8 holds a NUL character only as a 0 byte, checked here on the bytes (far quicker than on the text).
    if (content.includes(0)) return { rule: "file-not-text", message: "File is binary (it contains NUL bytes), not JSON or YAML text" };
    try {
      text = fatalUtf8.decode(content);
    } catch {
      return { rule: "file-not-text", message: "File is not valid UTF-8 text; save it as UTF-8" };
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === "") return { rule: "file-empty", message: "File is empty" };
  return { text };
}
