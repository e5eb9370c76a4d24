import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { apiUrlFor, convertManifestCode, ManifestError, webUrlOf } from "../../src/github/index.js";

describe("where the manifest flow goes", () => {
  it.each([
    ["", "https://api.github.com", "https://github.com"],
    ["ghe.example.com", "https://ghe.example.com/api/v3", "https://ghe.example.com"],
    ["https://ghe.example.com/", "https://ghe.example.com/api/v3", "https://ghe.example.com"],
    ["http://10.0.0.5:8080", "http://10.0.0.5:8080/api/v3", "http://10.0.0.5:8080"],
  ])("a GitHub Enterprise Server given as %j has its API at %s and its pages at %s", (typed, api, web) => {
    expect(apiUrlFor(typed)).toBe(api);
    expect(webUrlOf(api)).toBe(web);
  });

  it.each(["ghe.example.com/evil", "javascript:alert(1)", "user@ghe.example.com", "ftp://ghe.example.com"])("refuses %j as a host", (typed) => {
    expect(apiUrlFor(typed)).toBeUndefined();
  });
});

describe("converting the code GitHub sends back", () => {
  async function api(answer: (code: string) => [number, unknown] | "hang") {
    const server = createServer((req, res) => {
      const code = /\/app-manifests\/([^/]+)\/conversions$/.exec(req.url ?? "")?.[1] ?? "";
      const a = answer(code);
      if (a === "hang") return;
      res.writeHead(a[0], { "content-type": "application/json" }).end(JSON.stringify(a[1]));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
    return { url, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
  }

  it("says GitHub refused a used or unknown code, and never sends a code GitHub would not issue", async () => {
    const github = await api(() => [404, { message: "Not Found" }]);
    await expect(convertManifestCode(github.url, "abc")).rejects.toThrow("GitHub refused the code (HTTP 404)");
    await expect(convertManifestCode(github.url, "../../user")).rejects.toThrow(ManifestError);
    await github.close();
  });

  it("gives up on a GitHub that does not answer, within the timeout", async () => {
    const github = await api(() => "hang");
    const started = Date.now();
    await expect(convertManifestCode(github.url, "abc", 300)).rejects.toThrow("no answer in 300 ms");
    expect(Date.now() - started).toBeLessThan(3000);
    await github.close();
  });

  it("refuses an answer that lacks the key or a secret", async () => {
    const github = await api(() => [201, { id: 1, slug: "s", html_url: "h", client_id: "c", client_secret: "cs", webhook_secret: "w" }]);
    await expect(convertManifestCode(github.url, "abc")).rejects.toThrow("GitHub's answer has no pem");
    await github.close();
  });
});
