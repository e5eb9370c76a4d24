import { chmodSync, existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * The agent's folder, nginx's prefix: `gen/<n>/` holds one whole rendered configuration, `current`
 * is a symlink to the generation nginx runs, `logs/` and the `*_temp` folders are nginx's own. A generation is
 * written into a temporary folder and renamed whole, and `current` is replaced by renaming a new
 * symlink over it: nginx (or a reload) never reads a half-written set of files.
 */
export class ConfigDir {
  readonly root: string;
  private seq: number;

  constructor(root: string) {
    this.root = resolve(root);
    mkdirSync(join(this.root, "gen"), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.root, "logs"), { recursive: true, mode: 0o700 });
    // nginx's workers (another user when nginx starts as root) reach their temporary folders under
    // the prefix, but may not list it; the rendered files (key and password hashes) only the agent's user reads.
    chmodSync(this.root, 0o711);
    chmodSync(join(this.root, "gen"), 0o700);
    this.seq = Math.max(0, ...readdirSync(join(this.root, "gen")).map((n) => (/^\d+$/.test(n) ? Number(n) : 0)));
  }

  /** The generation `current` points at, as a path relative to the root (`gen/<n>`), if any. */
  current(): string | undefined {
    try {
      return readlinkSync(join(this.root, "current"));
    } catch {
      return undefined;
    }
  }

  /** Writes one generation whole; returns its path relative to the root. File names stay inside it. */
  write(files: Record<string, string>): string {
    const name = String(++this.seq);
    const tmp = join(this.root, "gen", `.${name}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    for (const [file, text] of Object.entries(files)) {
      const path = resolve(tmp, file);
      // A renderer bug must not write outside the generation's folder.
      if (!path.startsWith(tmp + sep)) throw new Error(`rendered file name ${JSON.stringify(file)} leaves the configuration folder`);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, text, { mode: 0o600 });
    }
    if (!existsSync(tmp)) mkdirSync(tmp, { recursive: true });
    renameSync(tmp, join(this.root, "gen", name));
    return relative(this.root, join(this.root, "gen", name));
  }

  /** Points `current` at a generation in one rename, and deletes every generation but it and the one before. */
  activate(generation: string): void {
    const before = this.current();
    const link = join(this.root, `.current.${process.pid}.tmp`);
    rmSync(link, { force: true });
    symlinkSync(generation, link);
    renameSync(link, join(this.root, "current"));
    this.prune(new Set([generation, before].filter((g): g is string => g !== undefined)));
  }

  /** Deletes a generation that was refused (nginx -t failed). */
  discard(generation: string): void {
    rmSync(join(this.root, generation), { recursive: true, force: true });
  }

  private prune(keep: Set<string>): void {
    for (const n of readdirSync(join(this.root, "gen"))) {
      const g = join("gen", n);
      if (!keep.has(g)) rmSync(join(this.root, g), { recursive: true, force: true });
    }
  }
}
