import { unknownSeverityRules, type Diagnostic, type GatewayConfig } from "../config/index.js";
import { CHANGE_RULES } from "./rules.js";

/**
 * Problems in the `diff:` part of a config's settings that only the diff stage can see: rule ids
 * under `diff.severity` that are not rules. Callers fail on them (an override that does nothing
 * would let a change through that the repository meant to stop).
 */
export function checkDiffSettings(config: GatewayConfig): Diagnostic[] {
  return unknownSeverityRules(config.docs, config.settings, Object.keys(CHANGE_RULES));
}
