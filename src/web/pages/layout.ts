import type { EnvironmentView } from "../../admin/types.js";
import { html, type Html } from "../html.js";

/** What every page knows of its reader. */
export interface PageContext {
  /** The signed-in actor, or null for a reader. */
  actor: string | null;
  /** The CSRF token for this visitor's forms. */
  csrf: string;
  now: Date;
}

export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;
}

/** A POST form with one button: every action is a form, so it works without JavaScript. */
export function actionForm(ctx: PageContext, action: string, label: string, fields: Html | string = "", cls = ""): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(ctx)}${fields}<button type="submit" class="${cls}">${label}</button></form>`;
}

export function statusBadge(env: Pick<EnvironmentView, "status" | "pinned" | "reportOnly">): Html {
  return html`<span class="badge status-${env.status}">${env.status}</span>${env.pinned ? html` <span class="badge pinned">pinned</span>` : ""}${env.reportOnly ? html` <span class="badge muted-badge">report-only</span>` : ""}`;
}

/** The data plane serving it, as `gitway status` shows it: with nginx, how many of its instances run the deployed release. */
export function engineCell(env: EnvironmentView): Html {
  if (env.engine !== "nginx") return html`node`;
  const current = env.engines.filter((i) => i.release !== null && i.release === env.desiredRelease).length;
  return html`nginx <span class="muted small">${current}/${env.engines.length} instance${env.engines.length === 1 ? "" : "s"} on the release</span>`;
}

/** Unapproved breaking changes in what runs, as a red badge beside the status: a security break never looks healthy. */
export function riskBadge(env: Pick<EnvironmentView, "risk">): Html | string {
  if (env.risk.breaking === 0) return "";
  const words = env.risk.security > 0 ? "breaking · security" : "breaking";
  const title = `${env.risk.breaking} unapproved breaking change${env.risk.breaking === 1 ? "" : "s"}${env.risk.security ? `, ${env.risk.security} of them security` : ""} in the running commit`;
  return html` <span class="badge risk" title="${title}">${words}</span>`;
}

export function layout(ctx: PageContext, title: string, main: Html, options: { refresh?: boolean } = {}): Html {
  const account = ctx.actor
    ? html`<span class="muted">signed in as ${ctx.actor}</span> <form method="post" action="/logout" class="inline">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form>`
    : html`<a href="/login">Sign in</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gitway</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<nav aria-label="Main"><a class="brand" href="/">Gitway</a> <a href="/">Environments</a> <a href="/audit">Audit log</a> <a href="/github/connect">GitHub</a></nav>
<div class="account">${account}</div>
</header>
<main id="main"${options.refresh ? html` data-refresh="15"` : ""}>
${main}
</main>
</body>
</html>`;
}
