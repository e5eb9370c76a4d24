/** One JSON line per event on stderr, at or above the configured level. */
export type Log = (level: "debug" | "info" | "warn" | "error", message: string) => void;

const ORDER = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5, silent: 6 } as const;

export function createLogger(level: keyof typeof ORDER, write: (line: string) => void = (l) => process.stderr.write(l)): Log {
  const min = ORDER[level];
  return (l, message) => {
    if (ORDER[l] < min) return;
    write(JSON.stringify({ level: l, time: new Date().toISOString(), msg: message }) + "\n");
  };
}
