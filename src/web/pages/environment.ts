import type { CheckView, DeploymentView, EnvironmentView, KeyView, UsageView, VariableView } from "../../admin/types.js";
import { formatCount } from "../../report/index.js";
import { changeReport } from "../change-report.js";
import { reportMarkdown } from "../markdown.js";
import { age, firstLine, shortRelease, shortSha, when } from "../format.js";
import { html, linkOrText, type Html } from "../html.js";
import { actionForm, csrfField, engineCell, layout, riskBadge, statusBadge, type PageContext } from "./layout.js";

export interface EnvironmentData {
  env: EnvironmentView;
  deployments: DeploymentView[];
  page: number;
  hasMore: boolean;
  checks: CheckView[];
  keys: KeyView[];
  variables: VariableView[];
  /** Calls per operation and consumer over the last days. */
  usage: UsageView;
  /** A fixed sentence after an action (never text from the request). */
  notice: string | null;
  /** A key just created: shown on this one response and never again. */
  createdKey: { consumer: string; key: string } | null;
}

function base(env: EnvironmentView): string {
  return `/environments/${encodeURIComponent(env.label)}`;
}

function summary(ctx: PageContext, env: EnvironmentView): Html {
  const c = env.commit;
  return html`<dl class="facts">
<dt>Repository</dt><dd>${env.repository}</dd>
<dt>Kind</dt><dd>${env.kind}${env.branch ? html` · branch <code>${env.branch}</code>` : ""}${env.pullRequest ? html` · pull request #${env.pullRequest}` : ""}</dd>
<dt>Engine</dt><dd class="engine">${engineCell(env)}</dd>
<dt>Status</dt><dd>${statusBadge(env)}${riskBadge(env)}${env.reason ? html` <span class="${env.status === "failed" ? "error-text" : "muted"}">${env.reason}</span>` : ""}</dd>
<dt>URL</dt><dd class="env-url">${linkOrText(env.tryUrl, env.tryUrl)}</dd>
<dt>Deployed commit</dt><dd>${c ? html`${linkOrText(c.url, html`<code>${shortSha(c.sha)}</code>`)} ${firstLine(c.message)}${c.author ? html` <span class="muted">by ${c.author}</span>` : ""} ${age(c.at, ctx.now)}` : html`<span class="muted">nothing deployed</span>`}</dd>
<dt>Running release</dt><dd>${env.runningRelease ? html`<code>${shortRelease(env.runningRelease)}</code>` : html`<span class="muted">none</span>`}</dd>
<dt>Desired release</dt><dd>${env.desiredRelease ? html`<code>${shortRelease(env.desiredRelease)}</code>` : html`<span class="muted">unknown</span>`}${env.desiredCommit ? html` from <code>${shortSha(env.desiredCommit)}</code>` : ""}</dd>
${env.lastError && env.status === "failed" ? html`<dt>Last error</dt><dd><pre class="error">${env.lastError}</pre></dd>` : ""}
<dt>Updated</dt><dd>${age(env.updatedAt, ctx.now)}</dd>
</dl>`;
}

function actions(ctx: PageContext, env: EnvironmentView): Html {
  if (!ctx.actor) return html`<p class="muted"><a href="/login?next=${encodeURIComponent(base(env))}">Sign in</a> to sync, roll back or manage keys.</p>`;
  return html`<div class="actions">${actionForm(ctx, `${base(env)}/sync`, "Sync now")}${env.pinned ? actionForm(ctx, `${base(env)}/unpin`, "Unpin", "", "warn") : ""}</div>`;
}

function deploymentRow(ctx: PageContext, env: EnvironmentView, d: DeploymentView): Html {
  // The release that runs is not offered: rolling back to it would change nothing.
  const rollback =
    ctx.actor && d.outcome === "succeeded" && d.release !== env.runningRelease
      ? actionForm(ctx, `${base(env)}/rollback`, "Roll back to this release", html`<input type="hidden" name="release" value="${d.release}">`)
      : d.release === env.runningRelease && d.outcome === "succeeded"
        ? html`<p class="small"><span class="badge status-synced">running</span></p>`
        : "";
  return html`<article class="deployment outcome-${d.outcome}" id="deployment-${d.id}">
<header>
<h3><code>${shortRelease(d.release)}</code> <span class="badge outcome-${d.outcome}">${d.outcome}</span></h3>
<p>${d.commit ? html`commit <code>${shortSha(d.commit)}</code> · ` : ""}${d.trigger} by ${d.actor} · ${when(d.startedAt)} (${age(d.startedAt, ctx.now)})${d.finishedAt ? "" : " · still running"}</p>
${rollback}
</header>
${d.error ? html`<pre class="error">${d.error}</pre>` : ""}
${hybridRoutes(d)}
<details${d.report && (d.report.summary.breaking > 0 || d.outcome === "failed") ? " open" : ""}>
<summary>Changes against the deployment before it</summary>
${changeReport(d.report)}
</details>
</article>`;
}

/** The routes nginx hands to the Node gateway behind it in this release: they run at the Node gateway's speed. */
function hybridRoutes(d: DeploymentView): Html {
  if (!d.hybridRoutes?.length) return html``;
  return html`<div class="hybrid-routes"><p>nginx hands ${d.hybridRoutes.length} route${d.hybridRoutes.length === 1 ? "" : "s"} to the Node gateway behind it:</p>
<ul>${d.hybridRoutes.map((h) => html`<li><code>${h.route}</code>: ${h.reason}</li>`)}</ul></div>`;
}

function deployments(ctx: PageContext, data: EnvironmentData): Html {
  const { env } = data;
  const list = data.deployments.length ? data.deployments.map((d) => deploymentRow(ctx, env, d)) : html`<p class="muted">No deployments yet.</p>`;
  const pager = html`<nav class="pager" aria-label="Deployment pages">${data.page > 1 ? html`<a href="${base(env)}?page=${data.page - 1}">Newer</a>` : ""}${data.hasMore ? html`<a href="${base(env)}?page=${data.page + 1}">Older</a>` : ""}</nav>`;
  return html`<section><h2>Deployments</h2>${list}${pager}</section>`;
}

function checks(list: CheckView[]): Html {
  if (list.length === 0) return html``;
  return html`<section><h2>Checks of its commits</h2>${list.map(
    (c) => html`<details class="check conclusion-${c.conclusion}"${c.conclusion === "failure" ? " open" : ""}>
<summary><span class="badge conclusion-${c.conclusion}">${c.conclusion}</span> ${c.name}: ${c.title} <span class="muted">on <code>${shortSha(c.commit)}</code>, ${when(c.at)}</span></summary>
<div class="check-summary">${reportMarkdown(c.summary)}</div>
</details>`,
  )}</section>`;
}

function keys(ctx: PageContext, data: EnvironmentData): Html {
  const { env } = data;
  const created = data.createdKey
    ? html`<div class="created-key" role="status">
<p><strong>New key for ${data.createdKey.consumer}.</strong> Copy it now: it is not shown again. Revoking ${data.createdKey.consumer} revokes all of its keys.</p>
<p class="copyable"><code id="new-key">${data.createdKey.key}</code> <button type="button" data-copy="new-key" hidden>Copy key</button></p>
<p>Call the environment with it:</p>
<p class="copyable"><code id="curl-line">curl -H "Authorization: Bearer ${data.createdKey.key}" ${env.tryUrl}</code> <button type="button" data-copy="curl-line" hidden>Copy</button></p>
</div>`
    : "";
  // One row per consumer: revoking takes every key the consumer has.
  const consumers = new Map<string, KeyView[]>();
  for (const k of data.keys) consumers.set(`${k.inheritedFrom ?? ""}\u0000${k.consumer}`, [...(consumers.get(`${k.inheritedFrom ?? ""}\u0000${k.consumer}`) ?? []), k]);
  const rows = [...consumers.values()].map((list) => {
    const { consumer, inheritedFrom, inheritedFromLabel } = list[0]!;
    const from = inheritedFrom
      ? html`from <a href="/environments/${encodeURIComponent(inheritedFromLabel ?? inheritedFrom)}">${inheritedFrom}</a>, inherited`
      : "own";
    const act = inheritedFrom ? html`<span class="muted small">revoke it on ${inheritedFrom}</span>` : ctx.actor ? actionForm(ctx, `${base(env)}/keys/revoke`, "Revoke", html`<input type="hidden" name="consumer" value="${consumer}">`, "danger") : "";
    return html`<tr><th scope="row">${consumer}</th><td>${from}</td><td>${list.length}</td><td>${when(list.map((k) => k.createdAt).sort().at(-1))}</td><td>${act}</td></tr>`;
  });
  const table = data.keys.length
    ? html`<div class="scroll"><table class="keys"><thead><tr><th scope="col">Consumer</th><th scope="col">From</th><th scope="col">Keys</th><th scope="col">Newest key created</th><th scope="col">Actions</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No API keys.</p>`;
  const form = ctx.actor
    ? html`<form method="post" action="${base(env)}/keys" class="create-key">${csrfField(ctx)}<label for="consumer">Consumer</label> <input id="consumer" name="consumer" required maxlength="100" autocomplete="off"> <button type="submit">Create key</button></form>`
    : "";
  return html`<section><h2>API keys</h2>${created}${table}${form}</section>`;
}

/** Rows shown; `gitway usage <env> --format json` lists them all. */
const USAGE_ROWS = 100;

/** Calls per operation and consumer, most first, each with a bar (a meter: no script, no inline style). */
function usage(u: UsageView): Html {
  const title = html`<h2>Usage <span class="muted small">last ${u.days} days</span></h2>`;
  if (u.rows.length === 0) return html`<section class="usage">${title}<p class="muted">No calls counted in the last ${u.days} days.</p></section>`;
  const max = Math.max(...u.rows.map((r) => r.calls));
  const shown = u.rows.slice(0, USAGE_ROWS);
  const rows = shown.map((r) => {
    const errors = (r.byStatus["4xx"] ?? 0) + (r.byStatus["5xx"] ?? 0);
    return html`<tr><th scope="row"><code>${r.operation}</code>${r.operation !== r.route ? html` <span class="muted small">${r.route}</span>` : ""}</th><td>${r.consumer}</td><td class="num">${formatCount(r.calls)}</td><td class="bar"><meter min="0" max="${max}" value="${r.calls}" aria-label="${formatCount(r.calls)} of ${formatCount(max)} calls">${formatCount(r.calls)}</meter></td><td class="num">${errors > 0 ? formatCount(errors) : ""}</td></tr>`;
  });
  const more = u.rows.length > shown.length ? html`<p class="muted small">and ${u.rows.length - shown.length} more rows: <code>gitway usage ${u.environment} --format json</code> lists them all.</p>` : "";
  return html`<section class="usage">${title}<p class="muted small">${formatCount(u.total)} calls in all, counted by the gateway per hour.</p><div class="scroll"><table class="usage"><thead><tr><th scope="col">Operation</th><th scope="col">Consumer</th><th scope="col">Calls</th><th scope="col"><span class="visually-hidden">Share</span></th><th scope="col">4xx/5xx</th></tr></thead><tbody>${rows}</tbody></table></div>${more}</section>`;
}

function variables(list: VariableView[]): Html {
  return html`<section><h2>Values</h2>${
    list.length
      ? html`<ul class="variables">${list.map((v) => html`<li><code>${v.name}</code>${v.secret ? html` <span class="tag">secret</span>` : ""}</li>`)}</ul>`
      : html`<p class="muted">No values set.</p>`
  }</section>`;
}

export function environmentPage(ctx: PageContext, data: EnvironmentData): Html {
  const { env } = data;
  const notice = data.notice ? html`<p class="notice" role="status">${data.notice}</p>` : "";
  return layout(
    ctx,
    env.name,
    html`<p class="crumbs"><a href="/">Environments</a> / ${env.repository}</p>
<h1>${env.name} <span class="muted small">${env.label}</span></h1>
${notice}${summary(ctx, env)}${actions(ctx, env)}${checks(data.checks)}${usage(data.usage)}${deployments(ctx, data)}${keys(ctx, data)}${variables(data.variables)}`,
  );
}
