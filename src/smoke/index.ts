/** The smoke test of a preview: the description's examples as requests, and the answers judged against it. */
export { planSmoke, operationName, SAFE_METHODS, type SmokePlan, type SmokeRequest, type SmokeSkip } from "./plan.js";
export { SmokeJudge, firstSchemaError, mediaTypeFor, type SmokeAnswer, type SmokeVerdict } from "./verdict.js";
export { runSmoke, type SmokeRow, type SendSmoke } from "./run.js";
