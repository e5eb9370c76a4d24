import { html, type Html } from "../html.js";
import { csrfField, layout, type PageContext } from "./layout.js";

export function loginPage(ctx: PageContext, options: { next: string; error?: string | undefined; disabled?: boolean }): Html {
  const body = options.disabled
    ? html`<p>Sign-in is off: no admin token is configured for this server.</p>`
    : html`${options.error ? html`<p class="error-text" role="alert">${options.error}</p>` : ""}
<form method="post" action="/login" class="login">${csrfField(ctx)}<input type="hidden" name="next" value="${options.next}">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" required autocomplete="current-password" autofocus>
<button type="submit">Sign in</button>
</form>
<p class="muted small">The admin token is <code>GITWAY_ADMIN_TOKEN</code>, or in the embedded mode the one the server wrote to its data folder.</p>`;
  return layout(ctx, "Sign in", html`<h1>Sign in</h1>${body}`);
}

/** An action that is hard to undo asks once more, without JavaScript: the same form again, with confirm=yes. */
export function confirmPage(ctx: PageContext, options: { title: string; message: string; action: string; fields: Record<string, string>; button: string; back: string }): Html {
  const hidden = Object.entries(options.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return layout(
    ctx,
    options.title,
    html`<h1>${options.title}</h1><p>${options.message}</p>
<form method="post" action="${options.action}" class="inline">${csrfField(ctx)}${hidden}<input type="hidden" name="confirm" value="yes"><button type="submit" class="danger">${options.button}</button></form>
<p><a href="${options.back}">Cancel</a></p>`,
  );
}

/** A page that says what went wrong and what to do; never a stack trace. */
export function messagePage(ctx: PageContext, title: string, message: string, hint?: Html): Html {
  return layout(ctx, title, html`<h1>${title}</h1><p>${message}</p>${hint ?? ""}<p><a href="/">Back to the environments</a></p>`);
}
