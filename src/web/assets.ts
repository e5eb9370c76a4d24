/**
 * The one stylesheet and the one script, served from this process (no build step, nothing from
 * another origin). The script only enhances: copy buttons and a live status refresh.
 */
export const STYLESHEET = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #5b6570; --line: #d5dae0; --accent: #0b5cad;
  --ok: #1a7f37; --bad: #c62828; --warn: #9a6700; --info: #0b5cad; --panel: #f5f7f9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #111417; --muted: #9aa4ae; --line: #30363d; --accent: #6cb6ff;
  --ok: #3fb950; --bad: #ff7b72; --warn: #d29922; --info: #6cb6ff; --panel: #1a1f24; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px 8px; }
.top { display: flex; flex-wrap: wrap; gap: 8px 24px; justify-content: space-between; align-items: center; padding: 10px 16px; border-bottom: 1px solid var(--line); }
.top nav a { margin-right: 16px; } .brand { font-weight: 700; text-decoration: none; }
main { padding: 8px 16px 48px; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: 16px 0 8px; } h2 { font-size: 1.15rem; margin: 24px 0 8px; } h3 { font-size: 1rem; margin: 0; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--panel); padding: 8px; border-radius: 4px; }
.scroll { overflow-x: auto; }
table.usage td.num { text-align: right; font-variant-numeric: tabular-nums; } table.usage td.bar { width: 30%; } table.usage meter { width: 100%; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
thead th { font-size: .85rem; color: var(--muted); font-weight: 600; }
.muted { color: var(--muted); } .small { font-size: .85rem; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.badge.status-synced, .badge.outcome-succeeded, .badge.conclusion-success { color: var(--ok); }
.badge.status-failed, .badge.outcome-failed, .badge.conclusion-failure { color: var(--bad); }
.badge.status-out-of-sync, .badge.status-missing, .badge.pinned { color: var(--warn); }
.badge.status-progressing, .badge.outcome-running { color: var(--info); }
.badge.muted-badge, .badge.outcome-superseded { color: var(--muted); }
.deployment.outcome-failed { border-color: var(--bad); }
.deployment { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.deployment header p { margin: 2px 0 6px; }
.changes .breaking .level { color: var(--bad); font-weight: 700; } .changes .warning .level { color: var(--warn); font-weight: 600; }
.tag { font-size: .75rem; border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; } .tag.security { color: var(--bad); border-color: currentColor; }
.rule { font-size: .8rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; } .facts dd { margin: 0; min-width: 0; }
.actions, .inline { display: inline-flex; gap: 8px; margin: 4px 0; }
button { font: inherit; padding: 4px 12px; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); color: var(--fg); cursor: pointer; }
button.danger { color: var(--bad); } button.warn { color: var(--warn); }
button.link { border: 0; background: none; color: var(--accent); padding: 0; text-decoration: underline; }
input { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); max-width: 100%; }
.notice, .created-key { background: var(--panel); border-left: 4px solid var(--ok); padding: 8px 12px; }
.created-key code { word-break: break-all; }
.error-text, pre.error { color: var(--bad); }
.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; margin-bottom: 12px; } .filters label { display: flex; flex-direction: column; font-size: .85rem; }
.pager { display: flex; gap: 16px; margin: 12px 0; }
.login { display: flex; flex-direction: column; gap: 8px; max-width: 360px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.check-summary { padding: 4px 0 4px 16px; } .check-summary h4 { margin: 8px 0 4px; font-size: .95rem; }
table.report td, table.report th { font-size: .9rem; }
.badge.risk { color: #fff; background: var(--bad); border-color: var(--bad); margin-left: 4px; }
.kv { margin: 0; font-size: .8rem; } .kv div { display: flex; gap: 6px; } .kv dt { color: var(--muted); } .kv dt::after { content: ":"; } .kv dd { margin: 0; overflow-wrap: anywhere; }
.url { overflow-wrap: anywhere; }
@media (max-width: 640px) {
  .facts { grid-template-columns: 1fr; } .facts dt { font-weight: 600; } th, td { padding: 4px; }
  /* On a phone each environment is a card: name, kind and status, then URL and commit below. */
  table.environments thead { display: none; }
  table.environments tr { display: block; padding: 8px 0; border-bottom: 1px solid var(--line); }
  table.environments th, table.environments td { display: inline-block; border: 0; padding: 2px 8px 2px 0; }
  table.environments td.url, table.environments td.commit { display: block; }
  /* The audit log as cards: every cell on its own line, named by its column. */
  table.audit thead { display: none; }
  table.audit tr { display: block; padding: 8px 0; border-bottom: 1px solid var(--line); }
  table.audit td { display: flex; gap: 8px; border: 0; padding: 1px 0; }
  table.audit td::before { content: attr(data-label); flex: 0 0 96px; color: var(--muted); font-size: .85rem; }
  table.audit td:empty { display: none; }
}
`;

export const SCRIPT = `"use strict";
// Progressive enhancement only: every page reads and acts without this script.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = document.getElementById(button.dataset.copy).textContent;
    try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; }
    catch { const r = document.createRange(); r.selectNodeContents(document.getElementById(button.dataset.copy)); getSelection().removeAllRanges(); getSelection().addRange(r); }
  });
}
const live = document.querySelector("[data-refresh]");
if (live) {
  setInterval(async () => {
    // Not while hidden, nor under the reader's keyboard focus (a refresh would take it away).
    if (document.hidden || live.contains(document.activeElement)) return;
    try {
      const res = await fetch(location.href, { credentials: "same-origin" });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("[data-refresh]");
      if (next) live.replaceChildren(...next.childNodes);
    } catch { /* offline for a moment: the next tick tries again */ }
  }, Number(live.dataset.refresh) * 1000);
}
`;

/** Linked from every page, so browsers do not ask for /favicon.ico (which is not the dashboard's). */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M4 8h8M8 4v8" stroke="#fff" stroke-width="2"/></svg>`;
