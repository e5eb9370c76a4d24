import type { ServerResponse } from "node:http";

/** An RFC 7807 problem: the one shape of every error the gateway itself answers. */
export interface Problem {
  status: number;
  title: string;
  detail: string;
  /** Short kebab-case slug; the type URI is built from it. */
  type: string;
  headers?: Record<string, string | number>;
  /** Extra members (e.g. validation errors). */
  extra?: Record<string, unknown>;
}

export function problem(status: number, type: string, title: string, detail: string, extra?: Partial<Problem>): Problem {
  return { status, type, title, detail, ...extra };
}

export function sendProblem(res: ServerResponse, p: Problem, instance: string, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    type: `https://gitway.dev/problems/${p.type}`,
    title: p.title,
    status: p.status,
    detail: p.detail,
    instance,
    trace: { requestId },
    ...p.extra,
  });
  res.writeHead(p.status, { ...p.headers, "content-type": "application/problem+json", "content-length": Buffer.byteLength(body), "x-request-id": requestId });
  res.end(body);
}
