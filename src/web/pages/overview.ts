import type { EnvironmentView } from "../../admin/types.js";
import { age, firstLine, shortSha } from "../format.js";
import { html, linkOrText, type Html } from "../html.js";
import { engineCell, layout, riskBadge, statusBadge, type PageContext } from "./layout.js";

/** Attention first: failed, then unapproved breaking changes running, then out of sync, then the rest. */
const STATUS_ORDER: Record<EnvironmentView["status"], number> = { failed: 0, "out-of-sync": 2, missing: 3, progressing: 4, synced: 5 };

function attention(e: EnvironmentView): number {
  return e.status !== "failed" && e.risk.breaking > 0 ? 1 : STATUS_ORDER[e.status];
}
const KIND_ORDER: Record<EnvironmentView["kind"], number> = { production: 0, stage: 1, preview: 2 };

function byAttention(a: EnvironmentView, b: EnvironmentView): number {
  return attention(a) - attention(b) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name);
}

function commitCell(env: EnvironmentView, now: Date): Html {
  const c = env.commit;
  if (!c) return html`<span class="muted">nothing deployed</span>`;
  return html`${linkOrText(c.url, html`<code>${shortSha(c.sha)}</code>`)} ${firstLine(c.message)}${c.author ? html` <span class="muted">by ${c.author}</span>` : ""} ${age(c.at ?? env.updatedAt, now)}`;
}

function row(env: EnvironmentView, now: Date): Html {
  return html`<tr data-label="${env.label}" class="env status-row-${env.status}">
  <th scope="row"><a href="/environments/${encodeURIComponent(env.label)}">${env.name}</a></th>
  <td>${env.kind}</td>
  <td class="engine">${engineCell(env)}</td>
  <td>${statusBadge(env)}${riskBadge(env)}${env.reason ? html`<div class="muted small">${env.reason}</div>` : ""}</td>
  <td class="url">${linkOrText(env.tryUrl, env.tryUrl)}</td>
  <td class="commit">${commitCell(env, now)}</td>
</tr>`;
}

export function overviewPage(ctx: PageContext, environments: EnvironmentView[]): Html {
  const byRepo = new Map<string, EnvironmentView[]>();
  for (const e of environments) byRepo.set(e.repository, [...(byRepo.get(e.repository) ?? []), e]);
  const repos = [...byRepo.entries()].map(([repo, envs]) => ({ repo, envs: envs.sort(byAttention) }));
  repos.sort((a, b) => byAttention(a.envs[0]!, b.envs[0]!) || a.repo.localeCompare(b.repo));
  const body = repos.length
    ? repos.map(
        ({ repo, envs }) => html`<section class="repo">
<h2>${repo}</h2>
<div class="scroll"><table class="environments">
<thead><tr><th scope="col">Environment</th><th scope="col">Kind</th><th scope="col">Engine</th><th scope="col">Status</th><th scope="col">URL</th><th scope="col">Deployed commit</th></tr></thead>
<tbody>${envs.map((e) => row(e, ctx.now))}</tbody>
</table></div>
</section>`,
      )
    : html`<p>No environments yet. Gitway creates one when a repository's gateway config is first deployed.</p>`;
  return layout(ctx, "Environments", html`<h1>Environments</h1>${body}`, { refresh: true });
}
