import type { Inbound, Outbound } from "../context.js";

export interface SetHeadersOptions {
  headers: { name: string; value: string; overwrite?: boolean }[];
}

export function setHeadersInbound(options: SetHeadersOptions): Inbound {
  const list = options.headers.map((h) => ({ name: h.name.toLowerCase(), value: h.value, overwrite: h.overwrite !== false }));
  return (ctx) => {
    for (const h of list) if (h.overwrite || ctx.req.headers[h.name] === undefined) ctx.upstreamHeaders[h.name] = h.value;
    return undefined;
  };
}

export function removeHeadersInbound(options: { headers: string[] }): Inbound {
  const names = options.headers.map((h) => h.toLowerCase());
  return (ctx) => {
    for (const n of names) ctx.upstreamHeaders[n] = null;
    return undefined;
  };
}

export function setHeadersOutbound(options: SetHeadersOptions): Outbound {
  const list = options.headers.map((h) => ({ name: h.name.toLowerCase(), value: h.value, overwrite: h.overwrite !== false }));
  return (headers) => {
    for (const h of list) if (h.overwrite || headers[h.name] === undefined) headers[h.name] = h.value;
  };
}

export function removeHeadersOutbound(options: { headers: string[] }): Outbound {
  const names = options.headers.map((h) => h.toLowerCase());
  return (headers) => {
    for (const n of names) delete headers[n];
  };
}
