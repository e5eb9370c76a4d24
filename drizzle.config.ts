import { defineConfig } from "drizzle-kit";

// `npx drizzle-kit generate` writes SQL into migrations/ from the schema; landed migrations are never edited.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./migrations",
  strict: true,
  verbose: true,
});
