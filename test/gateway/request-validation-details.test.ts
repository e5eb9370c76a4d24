import { connect } from "node:net";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { builtinPolicy as policy, forward, policiesFile, route, routesFile, type RouteSpec } from "../config/fixtures/seed.js";
import { startGateway, startUpstream } from "./harness.js";

/**
 * request-validation-inbound in detail: the 400 problem it answers, the log line, each mode, how
 * query and header strings are read as the schema's type, and the request body's edge cases.
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

const validation = (options: Record<string, unknown>) => policy("v", "request-validation-inbound", "RequestValidationInboundPolicy", options);

async function setup(options: Record<string, unknown>, op: RouteSpec, before: { name: string; policy: unknown }[] = []) {
  const u = await startUpstream();
  closers.push(u.close);
  const files = { "config/routes.oas.json": routesFile([{ ...op, route: route([...before.map((b) => b.name), "v"], forward(u.url)) }]), "config/policies.json": policiesFile([...before.map((b) => b.policy), validation(options)]) };
  const g = await startGateway(files);
  closers.push(g.close);
  return { u, g };
}

const ID = "rv-test-1";

async function send(url: string, init: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {}) {
  const r = await request(url, { method: (init.method ?? "GET") as "GET", headers: { "x-request-id": ID, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await r.body.text();
  return { status: r.statusCode, type: r.headers["content-type"], body: r.headers["content-type"] === "application/json" || r.headers["content-type"] === "application/problem+json" ? (JSON.parse(text) as unknown) : text };
}

type Failure = { in: string; message: string };

/** The whole 400 the policy answers for these errors at this path. */
function refusal(path: string, errors: Failure[]) {
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return {
    status: 400,
    type: "application/problem+json",
    body: {
      type: "https://gitway.dev/problems/request-validation-failed",
      title: "Bad Request",
      status: 400,
      detail: `The request does not fit the API description: ${errors[0]!.message}${more}`,
      instance: path,
      trace: { requestId: ID },
      errors,
    },
  };
}

const passed = (path: string) => ({ status: 200, type: "application/json", body: { ok: true, path } });

const ORDERS = "/api/v1/orders";
const json = { "content-type": "application/json" };
const orderSchema = { type: "object", required: ["item", "quantity"], additionalProperties: false, properties: { item: { type: "string", minLength: 1 }, quantity: { type: "integer", minimum: 1 } } };
const order = (required: boolean, mediaType = "application/json") => ({ method: "post", requestBody: { required, content: { [mediaType]: { schema: orderSchema } } } });

describe("the 400 answer", () => {
  it("names the first error in its detail, counts the others, and lists them all", async () => {
    const { u, g } = await setup({ validateBody: "reject-only" }, order(true));
    const r = await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"item": "", "quantity": 0, "extra": 1}' });
    expect(r).toEqual(
      refusal(ORDERS, [
        { in: "body", message: "body must NOT have additional properties" },
        { in: "body", message: "body.item must NOT have fewer than 1 characters" },
        { in: "body", message: "body.quantity must be >= 1" },
      ]),
    );
    expect(r.body).toMatchObject({ detail: "The request does not fit the API description: body must NOT have additional properties (and 2 more)" });
    expect(u.seen).toEqual([]);
  });

  it("lists at most 20 errors of a part, however many there are", async () => {
    const op = { method: "post", requestBody: { required: true, content: { "application/json": { schema: { type: "array", items: { type: "integer" } } } } } };
    const { g } = await setup({ validateBody: "reject-only" }, op);
    const r = await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: JSON.stringify(Array.from({ length: 30 }, (_, i) => `n${i}`)) });
    expect(r).toEqual(refusal(ORDERS, Array.from({ length: 20 }, (_, i) => ({ in: "body", message: `body.${i} must be integer` }))));
  });

  it("has no count in its detail when there is one error", async () => {
    const { g } = await setup({ validateBody: "reject-only" }, order(true));
    const r = await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"item": "book", "quantity": 0}' });
    expect(r).toEqual(refusal(ORDERS, [{ in: "body", message: "body.quantity must be >= 1" }]));
    expect(r.body).toMatchObject({ detail: "The request does not fit the API description: body.quantity must be >= 1" });
  });

  it("lists the errors of every checked part, parameters before the body", async () => {
    const op = { ...order(true), parameters: [{ name: "dryRun", in: "query", schema: { type: "boolean" } }] };
    const { g } = await setup({ validateBody: "reject-and-log", validateQueryParameters: "reject-and-log" }, op);
    const r = await send(`${g.url}${ORDERS}?dryRun=maybe`, { method: "POST", headers: json, body: '{"item": "book", "quantity": 0}' });
    expect(r).toEqual(
      refusal(ORDERS, [
        { in: "query", message: 'query parameter "dryRun" must be boolean' },
        { in: "body", message: "body.quantity must be >= 1" },
      ]),
    );
  });
});

describe("the log line", () => {
  const bad = '{"item": "", "quantity": 0}';

  it("reject-and-log logs every error of a part on one line, and refuses", async () => {
    const { g } = await setup({ validateBody: "reject-and-log" }, order(true));
    const r = await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: bad });
    expect(r.status).toBe(400);
    expect(g.logs).toEqual(["[local] request validation (body) POST /api/v1/orders: body.item must NOT have fewer than 1 characters; body.quantity must be >= 1"]);
  });

  it("log-only logs the same line and lets the request through", async () => {
    const { u, g } = await setup({ validateBody: "log-only" }, order(true));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: bad })).toEqual(passed(ORDERS));
    expect(g.logs).toEqual(["[local] request validation (body) POST /api/v1/orders: body.item must NOT have fewer than 1 characters; body.quantity must be >= 1"]);
    expect(u.seen.map((s) => s.body)).toEqual([bad]);
  });

  it("reject-only refuses without logging", async () => {
    const { g } = await setup({ validateBody: "reject-only" }, order(true));
    expect((await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: bad })).status).toBe(400);
    expect(g.logs).toEqual([]);
  });

  it("nothing is logged for a request that fits", async () => {
    const op = { ...order(true), parameters: [{ name: "dryRun", in: "query", schema: { type: "boolean" } }] };
    const { g } = await setup({ validateBody: "log-only", validateQueryParameters: "reject-and-log" }, op);
    expect(await send(`${g.url}${ORDERS}?dryRun=true`, { method: "POST", headers: json, body: '{"item": "book", "quantity": 2}' })).toEqual(passed(`${ORDERS}?dryRun=true`));
    expect(g.logs).toEqual([]);
  });
});

describe("modes none and unset", () => {
  const op = {
    ...order(true),
    path: "/api/v1/orders/{id}",
    parameters: [
      { name: "id", in: "path", required: true, schema: { type: "integer" } },
      { name: "limit", in: "query", schema: { type: "integer" } },
      { name: "x-tenant", in: "header", required: true, schema: { type: "string", pattern: "^t-" } },
    ],
  };
  const wrongEverywhere = { method: "POST", headers: { ...json, "x-tenant": "nope" }, body: '{"item": 5}' };

  it("none checks nothing and logs nothing", async () => {
    const { u, g } = await setup({ validateBody: "none", validateQueryParameters: "none", validatePathParameters: "none", validateHeaders: "none" }, op);
    expect(await send(`${g.url}/api/v1/orders/abc?limit=many`, wrongEverywhere)).toEqual(passed("/api/v1/orders/abc?limit=many"));
    expect([u.seen.length, g.logs]).toEqual([1, []]);
  });

  it("a part whose mode is not given is not checked", async () => {
    const { u, g } = await setup({ validateHeaders: "reject-and-log" }, op);
    expect(await send(`${g.url}/api/v1/orders/abc?limit=many`, { ...wrongEverywhere, headers: { ...json, "x-tenant": "t-1" } })).toEqual(passed("/api/v1/orders/abc?limit=many"));
    expect([u.seen.length, g.logs]).toEqual([1, []]);
  });
});

describe("query and header strings read as the schema's type", () => {
  const parameters = [
    { name: "count", in: "query", schema: { type: "integer", maximum: 10 } },
    { name: "ratio", in: "query", schema: { type: "number" } },
    { name: "name", in: "query", schema: { type: "string" } },
    { name: "confirm", in: "query", schema: { type: "boolean", enum: [true] } },
    { name: "since", in: "query", schema: { type: ["null", "integer"], maximum: 10 } },
    { name: "ids", in: "query", schema: { type: "array", minItems: 2, items: { type: "string", minLength: 2, maxLength: 2 } } },
  ];

  it("accepts values that fit once converted, and keeps strings that only look like numbers or booleans as strings", async () => {
    const { g } = await setup({ validateQueryParameters: "reject-only" }, { parameters });
    for (const q of ["count=7&ratio=1.5&confirm=true&since=5&ids=ab,cd", "name=12", "name=true", "name=false", "ids=ab&ids=cd"]) {
      expect(await send(`${g.url}${ORDERS}?${q}`)).toEqual(passed(`${ORDERS}?${q}`));
    }
  });

  it("reads only the words true and false as booleans", async () => {
    const { g } = await setup({ validateQueryParameters: "reject-only" }, { parameters });
    expect(await send(`${g.url}${ORDERS}?confirm=false`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "confirm" must be equal to one of the allowed values' }]));
    expect(await send(`${g.url}${ORDERS}?confirm=yes`)).toEqual(
      refusal(ORDERS, [
        { in: "query", message: 'query parameter "confirm" must be boolean' },
        { in: "query", message: 'query parameter "confirm" must be equal to one of the allowed values' },
      ]),
    );
  });

  it("does not read an empty or blank value as the number zero", async () => {
    const { g } = await setup({ validateQueryParameters: "reject-only" }, { parameters });
    expect(await send(`${g.url}${ORDERS}?count=`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "count" must be integer' }]));
    expect(await send(`${g.url}${ORDERS}?count=%20`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "count" must be integer' }]));
    expect(await send(`${g.url}${ORDERS}?count=11`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "count" must be <= 10' }]));
  });

  it("splits an array at commas, and joins a repeated parameter with commas", async () => {
    const { g } = await setup({ validateQueryParameters: "reject-only" }, { parameters });
    expect(await send(`${g.url}${ORDERS}?ids=ab`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "ids" must NOT have fewer than 2 items' }]));
    expect(await send(`${g.url}${ORDERS}?ids=abc,d`)).toEqual(
      refusal(ORDERS, [
        { in: "query", message: 'query parameter "ids".0 must NOT have more than 2 characters' },
        { in: "query", message: 'query parameter "ids".1 must NOT have fewer than 2 characters' },
      ]),
    );
  });

  it("reads each item of an array as the items schema's type", async () => {
    const op = { parameters: [{ name: "nums", in: "query", schema: { type: "array", items: { type: "integer", maximum: 5 } } }] };
    const { g } = await setup({ validateQueryParameters: "reject-only" }, op);
    expect(await send(`${g.url}${ORDERS}?nums=1,2`)).toEqual(passed(`${ORDERS}?nums=1,2`));
    expect(await send(`${g.url}${ORDERS}?nums=1,9`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "nums".1 must be <= 5' }]));
  });

  it("reads a header list written with spaces after the commas, or sent on two lines, item by item", async () => {
    const op = { parameters: [{ name: "x-tags", in: "header", schema: { type: "array", items: { enum: ["a", "b"] } } }] };
    const { g } = await setup({ validateHeaders: "reject-only" }, op);
    expect(await send(`${g.url}${ORDERS}`, { headers: { "x-tags": "a, b" } })).toEqual(passed(ORDERS));
    expect(await send(`${g.url}${ORDERS}`, { headers: { "x-tags": ["a", "b"] } })).toEqual(passed(ORDERS));
    expect(await send(`${g.url}${ORDERS}`, { headers: { "x-tags": "a, c" } })).toEqual(refusal(ORDERS, [{ in: "header", message: 'header parameter "x-tags".1 must be equal to one of the allowed values' }]));
  });

  it("joins a header sent more than once with commas before splitting it", async () => {
    const op = { parameters: [{ name: "Set-Cookie", in: "header", schema: { type: "array", minItems: 2, items: { type: "string", maxLength: 3 } } }] };
    const { g } = await setup({ validateHeaders: "reject-only" }, op);
    expect(await send(`${g.url}${ORDERS}`, { headers: { "set-cookie": ["a=1", "b=2"] } })).toEqual(passed(ORDERS));
  });
});

describe("parameters with a boolean schema or described by content", () => {
  it("refuses any value of a parameter whose schema is false", async () => {
    const { g } = await setup({ validateQueryParameters: "reject-only" }, { parameters: [{ name: "legacy", in: "query", schema: false }] });
    expect(await send(`${g.url}${ORDERS}?legacy=1`)).toEqual(refusal(ORDERS, [{ in: "query", message: 'query parameter "legacy" boolean schema is false' }]));
    expect(await send(`${g.url}${ORDERS}`)).toEqual(passed(ORDERS));
  });

  it("lets a parameter described by content through unchecked", async () => {
    const { g } = await setup({ validateQueryParameters: "reject-only" }, { parameters: [{ name: "filter", in: "query", content: { "application/json": { schema: { type: "object" } } } }] });
    expect(await send(`${g.url}${ORDERS}?filter=5`)).toEqual(passed(`${ORDERS}?filter=5`));
  });
});

describe("the request body", () => {
  it("refuses an empty body when the body is required", async () => {
    const { u, g } = await setup({ validateBody: "reject-only" }, order(true));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: "" })).toEqual(refusal(ORDERS, [{ in: "body", message: "a request body is required" }]));
    expect(u.seen).toEqual([]);
  });

  it("lets an empty body through when the body is optional, with or without a content type", async () => {
    const { g } = await setup({ validateBody: "reject-and-log" }, order(false));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: "" })).toEqual(passed(ORDERS));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", body: "" })).toEqual(passed(ORDERS));
    expect(g.logs).toEqual([]);
  });

  it("checks a body that is optional but sent", async () => {
    const { g } = await setup({ validateBody: "reject-only" }, order(false));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: "{}" })).toEqual(
      refusal(ORDERS, [
        { in: "body", message: "body must have required property 'item'" },
        { in: "body", message: "body must have required property 'quantity'" },
      ]),
    );
  });

  it("refuses a body that is not JSON by its content type, naming the type it wants", async () => {
    const { g } = await setup({ validateBody: "reject-only" }, order(true));
    const body = '{"item": "book", "quantity": 2}';
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: { "content-type": "text/plain" }, body })).toEqual(refusal(ORDERS, [{ in: "body", message: "content type text/plain is not accepted; send application/json" }]));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", body })).toEqual(refusal(ORDERS, [{ in: "body", message: "content type (none) is not accepted; send application/json" }]));
  });

  it("refuses malformed JSON, quoting the parser", async () => {
    const { g } = await setup({ validateBody: "reject-only" }, order(true));
    const body = '{"item": "a",';
    let parserSays = "";
    try {
      JSON.parse(body);
    } catch (e) {
      parserSays = (e as Error).message;
    }
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body })).toEqual(refusal(ORDERS, [{ in: "body", message: `the body is not valid JSON: ${parserSays}` }]));
  });

  it("checks a structured-syntax JSON media type such as application/merge-patch+json", async () => {
    const { g } = await setup({ validateBody: "reject-only" }, order(true, "application/merge-patch+json"));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: { "content-type": "application/merge-patch+json" }, body: '{"item": "book"}' })).toEqual(
      refusal(ORDERS, [{ in: "body", message: "body must have required property 'quantity'" }]),
    );
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: { "content-type": "application/merge-patch+json" }, body: '{"item": "book", "quantity": 1}' })).toEqual(passed(ORDERS));
  });

  it("takes the JSON schema from the media type that starts with application/", async () => {
    const op = { method: "post", requestBody: { required: true, content: { "text/plain; profile=application/json": {}, "application/json": { schema: orderSchema } } } };
    const { g } = await setup({ validateBody: "reject-only" }, op);
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"item": "book"}' })).toEqual(refusal(ORDERS, [{ in: "body", message: "body must have required property 'quantity'" }]));
  });

  it("lets any body through when the JSON media type has no schema", async () => {
    const op = { method: "post", requestBody: { required: true, content: { "application/json": {} } } };
    const { g } = await setup({ validateBody: "reject-and-log" }, op);
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"anything": 1}' })).toEqual(passed(ORDERS));
    expect(g.logs).toEqual([]);
  });

  it("lets any non-empty body through when the operation takes no JSON", async () => {
    const op = { method: "post", requestBody: { required: true, content: { "text/plain": { schema: { type: "string", maxLength: 1 } } } } };
    const { g } = await setup({ validateBody: "reject-and-log" }, op);
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: { "content-type": "text/plain" }, body: "longer than one" })).toEqual(passed(ORDERS));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: { "content-type": "text/plain" }, body: "" })).toEqual(refusal(ORDERS, [{ in: "body", message: "a request body is required" }]));
    expect(g.logs).toEqual(["[local] request validation (body) POST /api/v1/orders: a request body is required"]);
  });

  it("lets requests through to an operation that declares no request body", async () => {
    const { u, g } = await setup({ validateBody: "reject-only" }, { method: "post" });
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"x": 1}' })).toEqual(passed(ORDERS));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST" })).toEqual(passed(ORDERS));
    expect(u.seen.map((s) => s.body)).toEqual(['{"x": 1}', ""]);
  });

  it("uses a body an earlier policy already read", async () => {
    const size = { name: "size", policy: policy("size", "request-size-limit-inbound", "RequestSizeLimitInboundPolicy", { maxSizeInBytes: 1000 }) };
    const { u, g } = await setup({ validateBody: "reject-only" }, order(true), [size]);
    const started = Date.now();
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"item": "book", "quantity": 2}' })).toEqual(passed(ORDERS));
    expect(await send(`${g.url}${ORDERS}`, { method: "POST", headers: json, body: '{"item": "book", "quantity": 0}' })).toEqual(refusal(ORDERS, [{ in: "body", message: "body.quantity must be >= 1" }]));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(u.seen.map((s) => s.body)).toEqual(['{"item": "book", "quantity": 2}']);
  });

  it("answers the 413 of a body over the gateway's cap, not a validation error", async () => {
    const { u, g } = await setup({ validateBody: "reject-and-log" }, order(true));
    const port = Number(new URL(g.url).port);
    const answer = await new Promise<string>((resolve) => {
      let received = "";
      const socket = connect(port, "127.0.0.1", () => socket.write(`POST ${ORDERS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1024 * 1024 + 1}\r\nX-Request-Id: ${ID}\r\n\r\n`));
      const timer = setTimeout(() => socket.destroy(), 3_000);
      socket.on("data", (c: Buffer) => (received += c.toString("latin1")));
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(received);
      });
    });
    const [head, body] = answer.split("\r\n\r\n");
    expect(head!.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(JSON.parse(body!)).toEqual({
      type: "https://gitway.dev/problems/payload-too-large",
      title: "Payload Too Large",
      status: 413,
      detail: `The request body is ${1024 * 1024 + 1} bytes; at most ${1024 * 1024} are accepted`,
      instance: ORDERS,
      trace: { requestId: ID },
    });
    expect([u.seen, g.logs]).toEqual([[], []]);
  });
});
