import { describe, expect, it } from "vitest";
import { UsageCounter } from "../../src/gateway/usage.js";
import { parseUsageLine, UsageLogListener } from "../../src/nginx/usage-log.js";

const line = (json: string) => `<190>Dec  3 10:55:01 gitway: ${json}`;

describe("nginx's usage log line", () => {
  it("reads the environment, route, consumer and status nginx wrote", () => {
    expect(parseUsageLine(line('{"u":"acme-shop-production GET /v1/items/{id}","c":"mobile-app","s":"200"}'))).toEqual({ environment: "acme-shop-production", routeId: "GET /v1/items/{id}", consumer: "mobile-app", status: 200 });
  });

  it("ignores a malformed or foreign datagram rather than failing", () => {
    for (const bad of ["", "garbage", line("{not json"), line('{"u":"x GET /","c":"a"}'), line('{"u":"nospace","c":"","s":"200"}'), line('{"u":"x GET /","c":"","s":"abc"}'), line('{"u":"x GET /","c":"","s":"700"}'), line("[1,2]"), line("null"), "<190>Dec  3 10:55:01 other: {}"]) {
      expect(parseUsageLine(bad)).toBeUndefined();
    }
  });
});

describe("the agent's usage listener", () => {
  it("counts only routes the served configuration names, taking the operation from the config, never from the line", () => {
    const counter = new UsageCounter({ now: () => 7_200_000 });
    const listener = new UsageLogListener(counter);
    listener.serve(new Map([["shop-production", new Map([["GET /v1/orders", { id: "GET /v1/orders", operation: "listOrders" }]])]]));
    listener.receive(line('{"u":"shop-production GET /v1/orders","c":"partner","s":"201"}'));
    listener.receive(line('{"u":"shop-production GET /v1/orders","c":"","s":"401"}'));
    // An environment or route the configuration does not name (a forged datagram) is not counted.
    listener.receive(line('{"u":"other-production GET /v1/orders","c":"partner","s":"200"}'));
    listener.receive(line('{"u":"shop-production DELETE /v1/orders","c":"partner","s":"200"}'));
    listener.receive("not a syslog line");
    expect(counter.drain().map((r) => [r.environment, r.operation, r.route, r.consumer, r.status, r.count])).toEqual([
      ["shop-production", "listOrders", "GET /v1/orders", "partner", "2xx", 1],
      ["shop-production", "listOrders", "GET /v1/orders", "anonymous", "4xx", 1],
    ]);
  });
});
