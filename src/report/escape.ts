/**
 * Text from a pull request (paths, names, messages quoting spec values) shown in GitHub markdown:
 * HTML is escaped and markdown control characters neutralised, so a description cannot inject
 * markup, links or mentions into a check run or comment.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/([\\`*_[\]|#~])/g, "\\$1")
    .replace(/@/g, "@\u200b")
    .replace(/\r?\n/g, " ");
}
