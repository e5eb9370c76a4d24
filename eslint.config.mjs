import js from "@eslint/js";
import tseslint from "typescript-eslint";

const io = ["node:fs", "node:fs/promises", "fs", "fs/promises", "node:http", "node:https", "node:child_process", "node:net", "undici", "pg", "probot", "@octokit/rest", "@electric-sql/pglite", "drizzle-orm", "ioredis"];
const io_paths = io.filter((m) => m !== "node:net").map((name) => ({ name, message: "Pure stage: I/O belongs in an adapter (git/, github/, store/, gateway/)." }));

/** Each module may import only what docs/architecture.md's module table allows; pure stages no I/O at all. */
function boundary(files, forbiddenFolders, pure = true) {
  return {
    files,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: pure ? io_paths : [],
          patterns: forbiddenFolders.map((f) => ({ group: [`**/${f}/*`, `**/${f}`], message: `This module may not import ${f}/ (docs/architecture.md, Modules).` })),
        },
      ],
    },
  };
}

const later = ["diff", "report", "smoke", "gateway", "pipeline", "github", "git", "store", "jobs", "web", "app", "main", "cli"];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "data/", ".bench-cache/", "scratch/", "coverage/", ".stryker-tmp/", "reports/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  boundary(["src/config/**/*.ts"], later),
  boundary(["src/diff/**/*.ts"], later.filter((f) => f !== "diff")),
  boundary(["src/report/**/*.ts"], later.filter((f) => f !== "diff" && f !== "report")),
  // The smoke test's plan and verdict are pure: the description in, requests and verdicts out.
  boundary(["src/smoke/**/*.ts"], later.filter((f) => f !== "smoke")),
  // The runtime and the adapters do I/O, but keep to their own neighbours.
  boundary(["src/gateway/**/*.ts"], ["diff", "report", "pipeline", "github", "git", "store", "jobs", "web", "main", "cli"], false),
  // The nginx renderer is pure (releases in, file texts out); the process that writes and reloads is an adapter.
  boundary(["src/nginx/render.ts", "src/nginx/answers.ts", "src/nginx/paths.ts", "src/nginx/nginx-text.ts", "src/nginx/njs-script.ts"], ["diff", "report", "pipeline", "github", "git", "store", "jobs", "web", "app", "main", "cli"]),
  boundary(["src/store/**/*.ts"], ["config", "diff", "report", "gateway", "pipeline", "github", "git", "jobs", "web", "main", "cli"], false),
  boundary(["src/jobs/**/*.ts"], ["config", "diff", "report", "gateway", "pipeline", "github", "git", "web", "main", "cli"], false),
  boundary(["src/git/**/*.ts"], ["diff", "report", "gateway", "github", "store", "jobs", "web", "app", "main", "cli"], false),
  // The use cases are pure over their ports: no I/O, no adapter.
  boundary(["src/pipeline/**/*.ts"], ["gateway", "github", "git", "store", "jobs", "web", "app", "main", "cli"]),
  boundary(["src/github/**/*.ts"], ["gateway", "git", "store", "jobs", "web", "admin", "app", "main", "cli"], false),
  // The write bucket's rule is pure (a bucket and the time in, a bucket and a wait out); write-pacing.ts keeps the timers.
  boundary(["src/github/write-bucket.ts"], ["gateway", "git", "store", "jobs", "web", "admin", "app", "main", "cli", "pipeline", "config", "diff", "report", "smoke"]),
  // The operator's surface works over the store and the pipeline; the adapters and the UI come after it.
  boundary(["src/admin/**/*.ts"], ["gateway", "github", "git", "jobs", "web", "app", "main", "cli"], false),
  // The dashboard reads and acts only through admin/'s AdminOperations: no store, no runtime.
  boundary(["src/web/**/*.ts"], ["store", "gateway", "pipeline", "github", "git", "jobs", "app", "main", "cli"], false),
);
