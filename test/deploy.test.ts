import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { Deployment } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { Service } from "kubernetes-models/v1";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { readAppSettings } from "../src/app/settings.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DEPLOY = new URL("../deploy/", import.meta.url);
const MODELS: Record<string, new (data: Json) => { validate(): void }> = {
  "apps/v1 Deployment": Deployment as never,
  "batch/v1 Job": Job as never,
  "v1 Service": Service as never,
  "networking.k8s.io/v1 Ingress": Ingress as never,
};

const files = readdirSync(new URL("kubernetes/", DEPLOY)).filter((f) => f.endsWith(".yaml")).sort();
const documents = files.flatMap((file) => parseAllDocuments(readFileSync(new URL(`kubernetes/${file}`, DEPLOY), "utf8")).map((d, i) => ({ name: `${file}#${i}`, doc: d.toJS() as Json })));
const deployments = documents.filter((d) => d.doc.kind === "Deployment").map((d) => d.doc);
const containers = (doc: Json): Json[] => doc.spec.template.spec.containers;

/** What a Secret reference stands for when the settings are read: a value of the right shape. */
const SECRET_VALUES: Record<string, string> = {
  "database-url": "postgres://gitway:pw@postgres:5432/gitway",
  "redis-url": "redis://redis:6379",
  "secret-key": randomBytes(32).toString("base64"),
  "admin-token": "an-admin-token-of-enough-length",
};

/** The container's environment as the process would see it (optional secrets absent), and the names read. */
function settingsOf(container: Json) {
  const env: Record<string, string> = {};
  for (const e of container.env as Json[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (!e.valueFrom.secretKeyRef.optional) env[e.name] = SECRET_VALUES[e.valueFrom.secretKeyRef.key]!;
  }
  const read = new Set<string>();
  const watched = new Proxy(env, { get: (target, key: string) => (read.add(key), target[key]) });
  return { settings: readAppSettings(watched), read, names: (container.env as Json[]).map((e) => e.name as string) };
}

describe("the Kubernetes manifests", () => {
  it("are all a kind the test knows", () => {
    expect(documents.map((d) => `${d.name}: ${d.doc.apiVersion} ${d.doc.kind}`).filter((x) => !MODELS[x.split(": ")[1]!])).toEqual([]);
    expect(documents.length).toBeGreaterThanOrEqual(6);
  });

  it("would refuse a manifest the schema does not allow", () => {
    expect(() => new Deployment({ metadata: { name: "x" }, spec: { replicas: "two", selector: {}, template: {} } } as never).validate()).toThrow();
  });

  it.each(documents)("$name validates against the Kubernetes schema", ({ doc }) => {
    const Model = MODELS[`${doc.apiVersion} ${doc.kind}`]!;
    expect(() => new Model(doc).validate()).not.toThrow();
  });

  it("runs the app with two replicas, and the gateway as its own Deployment with GATEWAY_WORKERS", () => {
    const byName = Object.fromEntries(deployments.map((d) => [d.metadata.name, d]));
    expect(byName["gitway-app"].spec.replicas).toBe(2);
    expect(containers(byName["gitway-gateway"])[0]!.env).toContainEqual({ name: "GATEWAY_WORKERS", value: "2" });
    // Each Deployment runs only its part: the gateway takes no jobs and the app serves no gateway port.
    expect(settingsOf(containers(byName["gitway-gateway"])[0]!).settings).toMatchObject({ role: "gateway", gatewayWorkers: 2, github: undefined, example: false });
    expect(settingsOf(containers(byName["gitway-app"])[0]!).settings.role).toBe("app");
    expect(containers(byName["gitway-app"])[0]!.ports.map((p: Json) => p.name)).toEqual(["http"]);
  });

  it.each(deployments.map((d) => [d.metadata.name as string, d]))("%s sets only settings the code reads, and the settings are accepted", (_name, doc) => {
    for (const container of containers(doc)) {
      const { settings, read, names } = settingsOf(container);
      expect(names.filter((n) => !read.has(n))).toEqual([]);
      const ports = Object.fromEntries((container.ports as Json[]).map((p) => [p.name, p.containerPort]));
      expect(ports.http).toBe(settings.port);
      if (ports.gateway !== undefined) expect(ports.gateway).toBe(settings.gatewayPort);
      // Secrets come by reference, never written into a manifest.
      for (const e of container.env as Json[]) if (/SECRET|TOKEN|KEY|DATABASE_URL|REDIS_URL/.test(e.name)) expect(e.valueFrom?.secretKeyRef, e.name).toBeDefined();
    }
  });

  it.each(deployments.map((d) => [d.metadata.name as string, d]))("%s probes the endpoints the app serves, on ports it declares", (_name, doc) => {
    for (const container of containers(doc)) {
      const declared = new Set((container.ports as Json[]).map((p) => p.name));
      const probes = [container.livenessProbe, container.readinessProbe, container.startupProbe].filter(Boolean) as Json[];
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
      for (const probe of probes) {
        const target = probe.httpGet ?? probe.tcpSocket;
        expect(declared.has(target.port), JSON.stringify(probe)).toBe(true);
        if (probe.httpGet) expect(["/healthz", "/readyz"]).toContain(probe.httpGet.path);
      }
    }
    expect(readFileSync(new URL("../src/app/start.ts", import.meta.url), "utf8")).toMatch(/req\.url === "\/readyz"/);
  });

  it("routes the app's host to the app Service and the wildcard preview host to the gateway Service", () => {
    const ingress = documents.find((d) => d.doc.kind === "Ingress")!.doc;
    const services = new Map(documents.filter((d) => d.doc.kind === "Service").map((d) => [d.doc.metadata.name, d.doc]));
    const routes = (ingress.spec.rules as Json[]).map((r) => [r.host, r.http.paths[0].backend.service.name]);
    expect(routes).toEqual([
      ["gitway.example.com", "gitway-app"],
      ["*.preview.example.com", "gitway-gateway"],
    ]);
    const gateway = deployments.find((d) => d.metadata.name === "gitway-gateway")!;
    expect(containers(gateway)[0]!.env).toContainEqual({ name: "GATEWAY_BASE_DOMAIN", value: "preview.example.com" });
    for (const [, name] of routes) {
      const service = services.get(name)!;
      const backend = deployments.find((d) => Object.entries(service.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v))!;
      expect(containers(backend)[0]!.ports.map((p: Json) => p.name)).toContain(service.spec.ports[0].targetPort);
    }
  });

  it("migrates with the Job through the CLI's migrate command", () => {
    const job = documents.find((d) => d.doc.kind === "Job")!.doc;
    expect(job.spec.template.spec.containers[0].args).toEqual(["/app/dist/cli.js", "migrate"]);
  });
});

describe("deploy/compose.yaml", () => {
  const compose = parse(readFileSync(new URL("compose.yaml", DEPLOY), "utf8")) as Json;
  const gitway = compose.services.gitway as Json;

  it("runs Gitway with PostgreSQL and Redis, its data folder and secrets as volumes and environment", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["gitway", "postgres", "redis"]);
    expect(gitway.volumes).toEqual(["gitway-data:/data"]);
    expect(gitway.ports).toEqual(["3000:3000", "8787:8787"]);
    expect(gitway.healthcheck.test.join(" ")).toContain("/readyz");
  });

  it("sets only settings the code reads, and they are accepted", () => {
    // ${NAME:?...} and ${NAME:-default} as compose fills them in, with what the operator supplies.
    const supplied: Record<string, string> = { GITWAY_SECRET_KEY: SECRET_VALUES["secret-key"]!, GITWAY_ADMIN_TOKEN: SECRET_VALUES["admin-token"]!, POSTGRES_PASSWORD: "pw" };
    const fill = (value: string) => value.replace(/\$\{([A-Z_]+)(?::[-?]([^}]*))?\}/g, (_m, name: string, fallback?: string) => supplied[name] ?? fallback ?? "");
    const env = Object.fromEntries(Object.entries(gitway.environment as Record<string, string>).map(([k, v]) => [k, fill(v)]));
    expect(env.DATABASE_URL).toBe("postgres://gitway:pw@postgres:5432/gitway");
    const read = new Set<string>();
    readAppSettings(new Proxy(env, { get: (target, key: string) => (read.add(key), target[key]) }));
    expect(Object.keys(env).filter((n) => !read.has(n))).toEqual([]);
  });
});
