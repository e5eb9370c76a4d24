import { describe, expect, it } from "vitest";
import type { GatewayConfig } from "../../src/config/index.js";
import { CHANGE_RULES, diffConfigs } from "../../src/diff/index.js";
import { config, CONTRACT_CASES, doc } from "./fixtures/contract-cases.js";
import { GATEWAY_CASES } from "./fixtures/gateway-cases.js";
import { PLACES, schemaPairs } from "./fixtures/schema-pairs.js";

/**
 * Rules whose reverse pair shows the same rule (something was replaced, not added or removed): for
 * them the pair that must stay quiet is an unrelated edit instead of the reverse.
 */
const SYMMETRIC = new Set([
  "request-parameter-location-changed",
  "request-parameter-type-changed",
  "request-body-media-type-removed",
  "response-media-type-removed",
  "response-success-status-removed",
  "request-parameter-style-changed",
  "operation-id-changed",
  "operation-path-changed",
  "servers-changed",
  "route-authentication-changed",
  "route-ip-restriction-changed",
  "route-rate-limit-key-changed",
  "route-upstream-changed",
  "route-handler-changed",
  "policy-options-changed",
]);

interface Pair {
  fire: () => [GatewayConfig, GatewayConfig];
  quiet: () => [GatewayConfig, GatewayConfig];
}

/** A small unrelated edit: the operation's description. */
const edited = (text: string) => text.replace('"operationId": "updateOrder"', '"operationId": "updateOrder",\n      "description": "edited"');

function pairs(): Map<string, Pair> {
  const out = new Map<string, Pair>();
  for (const c of CONTRACT_CASES) {
    const rule = c.expected.split(" ")[1]!;
    if (out.has(rule)) continue;
    out.set(rule, { fire: () => [config(c.base), config(c.head)], quiet: () => (SYMMETRIC.has(rule) ? [config(c.head), config(edited(c.head))] : [config(c.head), config(c.base)]) });
  }
  for (const c of GATEWAY_CASES) {
    const rule = c.expected.split(" ")[1]!;
    if (out.has(rule)) continue;
    out.set(rule, { fire: () => [c.base(), c.head()], quiet: () => (SYMMETRIC.has(rule) ? [c.head(), c.head()] : [c.head(), c.base()]) });
  }
  for (const [suffix, { base, head, symmetric, components }] of Object.entries(schemaPairs())) {
    for (const [place, wrap] of Object.entries(PLACES)) {
      const rule = `${place}-${suffix}`;
      if (out.has(rule)) continue;
      const at = (schema: Record<string, unknown>) => config(doc(wrap(schema), components ? { components } : {}));
      const described = { ...head, description: "edited" };
      out.set(rule, { fire: () => [at(base), at(head)], quiet: () => (symmetric ? [at(head), at(described)] : [at(head), at(base)]) });
    }
  }
  return out;
}

const PAIRS = pairs();
const rulesFound = ([base, head]: [GatewayConfig, GatewayConfig]) => diffConfigs(base, head, { now: Date.parse("2026-11-23") }).changes.map((c) => c.rule);

describe("the change rule registry", () => {
  it.each(Object.keys(CHANGE_RULES))("%s has a pair that fires it and one that must not", (rule) => {
    const pair = PAIRS.get(rule);
    expect(pair, `no fixture pair for ${rule}`).toBeDefined();
    expect(rulesFound(pair!.fire())).toContain(rule);
    expect(rulesFound(pair!.quiet())).not.toContain(rule);
  });
});
