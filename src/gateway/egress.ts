import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * Which addresses an environment's upstreams may reach. A preview runs config nobody has merged,
 * so it is fenced: it reaches public addresses, the hosts its repository's production release
 * already forwards to, and what the operator allows (GITWAY_UPSTREAM_ALLOW). Every environment,
 * production included, is kept off the app's own ports and the cloud metadata address unless the
 * operator lists them. Checked once per release on the URLs, and on the resolved address of every
 * connection, so a name that resolves (or rebinds) to 127.0.0.1 is refused too.
 */

export type AddressClass = "public" | "loopback" | "private" | "link-local" | "metadata" | "cgnat" | "multicast" | "unspecified" | "reserved";

export const METADATA_ADDRESS = "169.254.169.254";

/** IPv4 ranges as [class, network as a 32-bit number, prefix length], most specific first. */
const V4: [AddressClass, number, number][] = [
  ["metadata", v4(METADATA_ADDRESS), 32],
  ["unspecified", v4("0.0.0.0"), 8],
  ["loopback", v4("127.0.0.0"), 8],
  ["private", v4("10.0.0.0"), 8],
  ["private", v4("172.16.0.0"), 12],
  ["private", v4("192.168.0.0"), 16],
  ["cgnat", v4("100.64.0.0"), 10],
  ["link-local", v4("169.254.0.0"), 16],
  ["multicast", v4("224.0.0.0"), 4],
  // Class E and broadcast: never a real upstream.
  ["reserved", v4("240.0.0.0"), 4],
];

function v4(address: string): number {
  const p = address.split(".");
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

function inV4(n: number, net: number, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((n & mask) >>> 0) === net;
}

/** The eight 16-bit groups of an IPv6 address (no embedded IPv4: unwrapMapped took those). */
function v6Groups(address: string): number[] {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const h = head ? head.split(":").map((g) => parseInt(g, 16)) : [];
  if (tail === undefined) return h;
  const t = tail ? tail.split(":").map((g) => parseInt(g, 16)) : [];
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function classifyV6(address: string): AddressClass {
  const g = v6Groups(address);
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return "metadata";
  if ((g[0]! & 0xfe00) === 0xfc00) return "private";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  return "public";
}

/** IPv4 inside IPv6 (::ffff:127.0.0.1, ::ffff:7f00:1) is judged as the IPv4 address it carries. */
function unwrapMapped(address: string): { address: string; type: "ipv4" | "ipv6" } | undefined {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(a);
  if (family === 4) return { address: a, type: "ipv4" };
  if (family !== 6) return undefined;
  const dotted = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) return { address: dotted[1]!, type: "ipv4" };
  const hex = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, type: "ipv4" };
  }
  return { address: a, type: "ipv6" };
}

/** The class of an IP address; undefined for something that is not one. */
export function classifyAddress(address: string): AddressClass | undefined {
  const ip = unwrapMapped(address);
  if (!ip) return undefined;
  if (ip.type === "ipv6") return classifyV6(ip.address);
  const n = v4(ip.address);
  for (const [cls, net, prefix] of V4) if (inV4(n, net, prefix)) return cls;
  return "public";
}

/** Host names that mean this machine whatever DNS says. */
function isLocalName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost");
}

export interface HostRule {
  kind: "host" | "suffix" | "cidr";
  value: string;
  port: number | undefined;
  cidr?: BlockList;
  /** For a CIDR: the single address it is, when it is one (/32, /128). */
  single?: string;
}

export class AllowListError extends Error {}

/** GITWAY_UPSTREAM_ALLOW: comma-separated `host`, `host:port`, `*.suffix` and CIDRs (`10.0.0.0/8`). */
export function parseAllowList(text: string | undefined): HostRule[] {
  const rules: HostRule[] = [];
  for (const raw of (text ?? "").split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    const cidr = /^\[?([0-9a-f.:]+)\]?\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const ip = unwrapMapped(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (!ip || prefix > (ip.type === "ipv4" ? 32 : 128)) throw new AllowListError(`"${raw.trim()}" is not a CIDR range such as 10.0.0.0/8`);
      const list = new BlockList();
      list.addSubnet(ip.address, prefix, ip.type);
      rules.push({ kind: "cidr", value: entry, port: undefined, cidr: list, ...(prefix === (ip.type === "ipv4" ? 32 : 128) ? { single: ip.address } : {}) });
      continue;
    }
    const withPort = /^(\[[0-9a-f:.]+\]|[^:\s/]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!withPort || (withPort[2] !== undefined && Number(withPort[2]) > 65535)) throw new AllowListError(`"${raw.trim()}" is not a host, host:port, *.suffix or CIDR`);
    const host = withPort[1]!.replace(/^\[|\]$/g, "");
    const port = withPort[2] === undefined ? undefined : Number(withPort[2]);
    if (host.startsWith("*.")) {
      if (host.length < 3 || host.slice(2).includes("*")) throw new AllowListError(`"${raw.trim()}" is not a *.suffix pattern such as *.internal.example`);
      rules.push({ kind: "suffix", value: host.slice(1), port });
    } else if (host.includes("*")) {
      throw new AllowListError(`"${raw.trim()}": a wildcard may only open a pattern, as in *.internal.example`);
    } else rules.push({ kind: "host", value: unwrapMapped(host)?.address ?? host, port });
  }
  return rules;
}

/** An upstream's host and port as a URL names it (the port filled in from the scheme). */
export function hostPortOf(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname.toLowerCase().replace(/^\[|\]$/g, "")}:${port}`;
}

export interface EgressOptions {
  /** A preview: private and local addresses are refused unless trusted or allowed. */
  fenced: boolean;
  /** `host:port` pairs the repository's production release forwards to. */
  trusted?: readonly string[];
  /** Parsed GITWAY_UPSTREAM_ALLOW. */
  allow?: readonly HostRule[];
  /** The app's own ports (app, gateway): refused on this machine's addresses unless allowed with that port. Shared, not copied: ports bound later (port 0) join it. */
  ownPorts?: ReadonlySet<number>;
  /** How names become addresses; dns.lookup (the system resolver) unless given. */
  resolver?: Resolver;
}

export type Resolver = (host: string) => Promise<readonly { address: string }[]>;

export const EGRESS_SETTING = "GITWAY_UPSTREAM_ALLOW";

/** Why a connection is refused, or undefined when it may go. */
export type EgressVerdict = string | undefined;

export class EgressPolicy {
  readonly fenced: boolean;
  /** Pools are keyed by it: a connection opened under one policy is never reused under another. */
  readonly key: string;
  private readonly trusted: ReadonlySet<string>;
  private readonly allow: readonly HostRule[];
  private readonly ownPorts: ReadonlySet<number>;
  private readonly resolver: Resolver;

  constructor(options: EgressOptions) {
    this.resolver = options.resolver ?? lookupAll;
    this.fenced = options.fenced;
    this.trusted = new Set((options.trusted ?? []).map((t) => t.toLowerCase()));
    this.allow = options.allow ?? [];
    this.ownPorts = options.ownPorts ?? new Set();
    this.key = `${this.fenced ? "fenced" : "open"}|${[...this.trusted].sort().join(",")}|${this.allow.map((r) => `${r.value}:${r.port ?? ""}`).join(",")}`;
  }

  /** The operator's allow entries this connection matches. */
  private allowing(host: string, address: string, port: number): HostRule[] {
    const ip = unwrapMapped(address);
    return this.allow.filter((r) => (r.port === undefined || r.port === port) && (r.kind === "host" ? r.value === host || r.value === ip?.address : r.kind === "suffix" ? host.endsWith(r.value) : ip !== undefined && r.cidr!.check(ip.address, ip.type)));
  }

  /**
   * The verdict on one connection: `host` as the URL names it, `address` what it resolved to.
   * The app's own ports need an allow entry naming that port; the metadata address one naming it.
   */
  check(host: string, port: number, address: string): EgressVerdict {
    const h = host.toLowerCase().replace(/^\[|\]$/g, "");
    const cls = classifyAddress(address);
    if (cls === undefined) return `${address} is not an IP address`;
    const local = cls === "loopback" || cls === "unspecified" || LOCAL_ADDRESSES.has(unwrapMapped(address)!.address);
    if (local && this.ownPorts.has(port)) {
      if (this.allowing(h, address, port).some((r) => r.port === port)) return undefined;
      return `${h}:${port} is one of Gitway's own ports; list it with its port in ${EGRESS_SETTING} to forward there`;
    }
    if (cls === "metadata") {
      if (this.allowing(h, address, port).some((r) => r.value === METADATA_ADDRESS || r.single === METADATA_ADDRESS)) return undefined;
      return `${address} is the cloud metadata address; list it in ${EGRESS_SETTING} to forward there`;
    }
    if (!this.fenced || cls === "public") return undefined;
    if (this.trusted.has(`${h}:${port}`)) return undefined;
    if (this.allowing(h, address, port).length > 0) return undefined;
    return `${h}:${port} resolves to a ${cls} address (${address}), which a preview may reach only when the production release forwards there or ${EGRESS_SETTING} allows it`;
  }

  /**
   * The verdict known from the URL alone (at release time): an IP literal or a local name is judged
   * as it stands; any other name only when it connects.
   */
  checkUrl(url: URL): EgressVerdict {
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    if (isIP(host)) return this.check(host, port, host);
    if (isLocalName(host)) return this.check(host, port, "127.0.0.1");
    return undefined;
  }

  /**
   * Resolves the host of one connection and judges every address it has (a name cannot slip one
   * private address among public ones); answers the address to connect to, so what was judged is
   * what is reached, or throws EgressRefused.
   */
  async resolve(hostname: string, port: number): Promise<string> {
    const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
    if (isIP(host)) {
      const why = this.check(host, port, host);
      if (why) throw new EgressRefused(why);
      return host;
    }
    if (isLocalName(host)) {
      const why = this.check(host, port, "127.0.0.1");
      if (why) throw new EgressRefused(why);
    }
    const addresses = await this.resolver(host);
    if (addresses.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" });
    for (const a of addresses) {
      const why = this.check(host, port, a.address);
      if (why) throw new EgressRefused(why);
    }
    return addresses[0]!.address;
  }
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : addresses.length === 0 ? reject(Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" })) : resolve(addresses))));
}

export class EgressRefused extends Error {
  readonly code = "GITWAY_EGRESS_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "EgressRefused";
  }
}

/** This machine's own interface addresses, read once: an upstream there is the app itself. */
const LOCAL_ADDRESSES: ReadonlySet<string> = new Set(
  Object.values(networkInterfaces())
    .flat()
    .map((i) => unwrapMapped(i?.address ?? "")?.address)
    .filter((a): a is string => a !== undefined),
);

/** Every environment outside a preview: only the app's own ports and the metadata address are fenced. */
export function openPolicy(allow: readonly HostRule[] = [], ownPorts: ReadonlySet<number> = new Set()): EgressPolicy {
  return new EgressPolicy({ fenced: false, allow, ownPorts });
}
