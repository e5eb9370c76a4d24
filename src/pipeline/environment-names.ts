/** `feature/stock-webhooks` -> `branch-feature-stock-webhooks`: one DNS-safe environment name per previewed branch. */
export function branchPreviewName(branch: string): string {
  return `branch-${branch.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "")}`.slice(0, 40).replace(/-+$/, "");
}

export const pullRequestPreviewName = (number: number): string => `pr-${number}`;
