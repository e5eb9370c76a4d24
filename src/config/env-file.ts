/**
 * A dotenv-style file of `$env` values for `gitway serve`: `NAME=value` per line, optionally
 * `export NAME=value`, with `#` comments, blank lines, and single- or double-quoted values
 * (double quotes understand \n, \" and \\). Pure: text in, values and the lines it could not read out.
 */
export interface EnvFile {
  vars: Record<string, string>;
  /** 1-based line numbers with why; the values themselves are never quoted back (they may be secrets). */
  errors: { line: number; message: string }[];
}

export function parseEnvFile(text: string): EnvFile {
  const vars: Record<string, string> = {};
  const errors: EnvFile["errors"] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      errors.push({ line: i + 1, message: "expected NAME=value" });
      return;
    }
    const [, name, rest] = m as unknown as [string, string, string];
    let value: string;
    if (rest.startsWith('"') || rest.startsWith("'")) {
      const quote = rest[0]!;
      const end = closingQuote(rest, quote);
      if (end === -1 || !/^\s*(#.*)?$/.test(rest.slice(end + 1))) {
        errors.push({ line: i + 1, message: `the value of ${name} opens a quote it does not close (values span one line)` });
        return;
      }
      value = rest.slice(1, end);
      if (quote === '"') value = value.replace(/\\([n"\\])/g, (_m, c: string) => (c === "n" ? "\n" : c));
    } else {
      value = rest.replace(/\s+#.*$/, "").trim();
    }
    vars[name] = value;
  });
  return { vars, errors };
}

function closingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\" && quote === '"') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}
