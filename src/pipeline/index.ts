/** The use cases, over ports: preview a change, promote a commit, retire an environment. */
export { previewChange, APPROVE_ACTION, DEPLOY_PREVIEW_ACTION, type PreviewRequest, type PreviewResult } from "./preview.js";
export { promoteCommit, type PromoteRequest, type PromoteResult } from "./promote.js";
export { approveBreaking, approveForkPreview, type ApproveRequest } from "./approve.js";
export { retireEnvironment, type RetireRequest } from "./retire.js";
export { readCommit, filesOf } from "./read-commit.js";
export { withoutSecrets } from "./steps.js";
export { EnvironmentBusyError, swapRelease, type SwapPlan, type SwapPorts, type SwapResult } from "./swap.js";
export { DeployError, type DeployErrorCode } from "./errors.js";
export type * from "./ports.js";
export { branchPreviewName, pullRequestPreviewName } from "./environment-names.js";
export { readTrustedSettings, settingsOfSide, trustedSettingsOf, forkPreviewMark, type TrustedSettings, type TrustPorts } from "./trusted-settings.js";
