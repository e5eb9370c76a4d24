import { CHANGE_RULES } from "./rules.js";

/** What a reviewer weighs first: a vanished operation before a vanished status, before a changed type, before a new requirement, before a field. */
export interface ChangeKind {
  rank: number;
  /** Short, for a table column. */
  label: string;
  /** One line of why a client breaks. */
  why: string;
}

const KINDS: { test: RegExp; kind: ChangeKind }[] = [
  { test: /^(operation-removed-|operation-path-changed$|webhook-removed$|route-no-longer-served$)/, kind: { rank: 0, label: "removed or moved", why: "clients calling it get 404" } },
  { test: /(status-removed|media-type-removed|header-removed)$|^request-body-removed$/, kind: { rank: 1, label: "status or media type", why: "clients expecting it get something else, or are refused" } },
  { test: /(-type-(changed|narrowed|widened)|schema-switched|one-of-introduced|-(one|any|all)-of-(added|removed))$/, kind: { rank: 2, label: "type", why: "clients send or read values of another shape" } },
  { test: /(added-required|became-required|new-required-property|^security-requirement-added|^security-scope-added|^security-alternative-removed|^route-authentication-(added|made-required)|^route-ip-restriction-added)$/, kind: { rank: 3, label: "requirement", why: "requests without it are refused" } },
];

const FIELD_LEVEL: ChangeKind = { rank: 4, label: "field", why: "" };

/** Asked for every comparison while sorting: worked out once per rule. */
const known = new Map<string, ChangeKind>();

export function changeKind(rule: string): ChangeKind {
  let kind = known.get(rule);
  if (!kind) known.set(rule, (kind = kindOf(rule)));
  return kind;
}

function kindOf(rule: string): ChangeKind {
  const found = KINDS.find((k) => k.test.test(rule))?.kind;
  if (found) return found;
  // A field-level change: why depends on the side it is on; other rules say it in their own words.
  // What the gateway enforces (routes, policies, CORS, environment): its own words say why.
  if (/^(route|policy|cors|env)-/.test(rule)) return { rank: 4, label: "gateway", why: CHANGE_RULES[rule]?.about.replace(/\.$/, "") ?? "" };
  if (rule.startsWith("request-")) return { ...FIELD_LEVEL, why: "requests that worked may now be refused" };
  if (rule.startsWith("response-")) return { ...FIELD_LEVEL, why: "clients may read values, or miss fields, they did not expect" };
  return { ...FIELD_LEVEL, why: CHANGE_RULES[rule]?.about.replace(/\.$/, "") ?? "" };
}
