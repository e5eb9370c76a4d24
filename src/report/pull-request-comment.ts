import type { CheckText } from "./check-runs.js";
import { escapeMarkdown } from "./escape.js";

/** Hidden in the rendered comment; how Gitway finds its own comment again to edit it. */
export const COMMENT_MARKER = "<!-- gitway:pull-request-summary -->";

export type PreviewState =
  | { state: "serving"; url: string; environment: string; label: string; commit: string; protectedRoutes: number; keySource: string | undefined }
  | { state: "not-deployed"; environment: string; reason: string; stillServing?: { url: string; commit: string } }
  | { state: "removed"; environment: string }
  | { state: "skipped"; reason: string };

const ICON: Record<CheckText["conclusion"], string> = { success: "✅", failure: "❌", neutral: "⚪", cancelled: "⏹️", skipped: "⏭️" };

function previewSection(p: PreviewState): string[] {
  switch (p.state) {
    case "serving": {
      const lines = [`🚀 **Preview** \`${p.environment}\` serves commit \`${p.commit.slice(0, 7)}\` at ${p.url}`, "", "```sh", `curl ${p.url}`, "```"];
      if (p.protectedRoutes > 0) {
        lines.push(
          "",
          `${p.protectedRoutes} route${p.protectedRoutes === 1 ? " needs" : "s need"} an API key (\`Authorization: Bearer <key>\`). ${p.keySource ? `Keys of \`${escapeMarkdown(p.keySource)}\` work here too, or a maintainer` : "A maintainer"} creates one for this environment: \`gitway keys create --env ${p.label} --consumer <name>\`.`,
        );
      }
      return lines;
    }
    case "not-deployed":
      return [
        `⚠️ **Preview** \`${p.environment}\` was not updated: ${escapeMarkdown(p.reason)}`,
        ...(p.stillServing ? ["", `It still serves commit \`${p.stillServing.commit.slice(0, 7)}\` at ${p.stillServing.url}`] : []),
      ];
    case "removed":
      return [`🧹 **Preview** \`${p.environment}\` was removed: the pull request is closed.`];
    case "skipped":
      return [`⏭️ **Preview**: ${escapeMarkdown(p.reason)}`];
  }
}

/** The one pull-request comment: the validate and changes verdicts, who the breaking changes would hit, where the preview runs, and its smoke test. */
export function pullRequestComment(input: { validate?: CheckText; changes?: CheckText; preview: PreviewState; smoke?: CheckText; headSha?: string; impact?: readonly string[] }): string {
  const out = [COMMENT_MARKER, "### Gitway", ""];
  if (input.validate) out.push(`${ICON[input.validate.conclusion]} **Validate**: ${escapeMarkdown(input.validate.title)}`);
  if (input.changes) out.push(`${ICON[input.changes.conclusion]} **Changes**: ${escapeMarkdown(input.changes.title)}`);
  // Who production traffic says the breaking changes would hit (markdown bullets from impactBullets).
  if (input.impact && input.impact.length > 0) out.push("", ...input.impact);
  if (input.validate || input.changes) out.push("");
  out.push(...previewSection(input.preview));
  if (input.smoke) out.push("", `${ICON[input.smoke.conclusion]} **Smoke test**: ${escapeMarkdown(input.smoke.title)}`);
  if (input.headSha) out.push("", `<sub>Updated for ${input.headSha.slice(0, 7)}. The checks hold the details.</sub>`);
  return out.join("\n") + "\n";
}
