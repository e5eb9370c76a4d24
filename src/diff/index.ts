/** The diff stage: two gateway configs in, a change report out (contract, security, traffic, upstream). */
export { diffConfigs, type DiffOptions } from "./diff-configs.js";
export { CHANGE_RULES, type ChangeRule } from "./rules.js";
export { fingerprintOf, sourceFingerprintOf, summarize, type AffectedPlace, type Change, type ChangeDetail, type ChangeLevel, type ChangeCategory, type ChangePlace, type ChangeReport, type ChangeSummary } from "./change.js";
export { checkDiffSettings } from "./settings-check.js";
export { changeKind, type ChangeKind } from "./change-kind.js";
