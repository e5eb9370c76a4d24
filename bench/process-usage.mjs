/**
 * Loaded with --import into a measured process (the built CLI, or the floor): at exit it writes
 * one line to stderr with its CPU time and peak RSS, so the parent can set them beside the wall time.
 */
import { writeSync } from "node:fs";
import process from "node:process";

process.on("exit", () => {
  const u = process.resourceUsage();
  writeSync(2, `\nprocess-usage ${JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssMB: u.maxRSS / 1024 })}\n`);
});
