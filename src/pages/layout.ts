import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Branding } from './branding.ts';

/**
 * The policy of the HTML pages a person sees: one stylesheet and one small script (local times,
 * src/pages/assets.ts), both from this origin and never inline; images from here, GitHub's
 * avatars and the operator's logo (GATEWAY_LOGO_URL, its origin exactly). Every value on a page
 * is escaped by hono's `html` template.
 */
export function pageCsp(logoUrl: string | null): string {
  const logo = logoUrl ? ` ${new URL(logoUrl).origin}` : '';
  return (
    `default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https://avatars.githubusercontent.com${logo}; ` +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
  );
}

/** The pages' policy when no logo is set. */
export const PAGE_CSP = pageCsp(null);

export type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

export function layout(branding: Branding, title: string, body: Page): Page {
  const logo = branding.logoUrl ? html`<img src="${branding.logoUrl}" alt="" height="32">` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · ${branding.name}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/gateway.css">
<script src="/assets/local-time.js" defer></script>
</head>
<body>
<header class="site"><a class="home" href="/">${logo}${branding.name}</a></header>
<main>
${body}
</main>
</body>
</html>`;
}
