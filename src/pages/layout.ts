import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/**
 * The HTML pages a person sees. Small, no script, one stylesheet from this origin; every value is
 * escaped by hono's `html` template. Their CSP allows exactly that.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' https://avatars.githubusercontent.com; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

export function layout(title: string, body: Page): Page {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Gateway</title>
<link rel="stylesheet" href="/assets/gateway.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export const STYLESHEET = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0; display: grid; min-height: 100vh; place-items: center; background: Canvas; color: CanvasText; }
main { max-width: 32rem; padding: 2rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
a.button, button { display: inline-block; padding: 0.6rem 1.2rem; border-radius: 0.4rem; border: 1px solid currentColor;
  background: #24292f; color: #fff; font: inherit; text-decoration: none; cursor: pointer; }
a.button:focus-visible, button:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
p.code { font-family: ui-monospace, monospace; font-size: 0.9rem; opacity: 0.8; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
ul.sessions { padding-left: 1.2rem; }
ul.sessions li { margin-bottom: 0.75rem; }
ul.sessions form { margin-top: 0.25rem; }
form + form { margin-top: 0.75rem; }
`;
