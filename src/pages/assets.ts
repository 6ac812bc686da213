/**
 * The pages' static assets, served from this origin (src/routes/assets.ts): the stylesheet, the
 * local-time script and the favicon. Nothing inline, so the pages' CSP names only 'self'.
 */

export const STYLESHEET = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5;
  --button: #24292f; --button-text: #ffffff; --focus: #0969da; }
@media (prefers-color-scheme: dark) { :root { --button: #f0f3f6; --button-text: #0d1117; --focus: #58a6ff; } }
body { margin: 0; display: flex; flex-direction: column; min-height: 100vh; background: Canvas; color: CanvasText; }
header.site { padding: 0.75rem 1.5rem; border-bottom: 1px solid color-mix(in srgb, CanvasText 20%, Canvas); }
header.site a.home { display: inline-flex; align-items: center; gap: 0.5rem; font-weight: 600; color: inherit; text-decoration: none; }
header.site img { height: 2rem; width: auto; }
main { flex: 1; width: 100%; max-width: 32rem; box-sizing: border-box; margin: 0 auto; padding: 2rem 1.25rem; align-self: center; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
a.button, button { display: inline-block; padding: 0.6rem 1.2rem; border-radius: 0.4rem; border: 1px solid var(--button);
  background: var(--button); color: var(--button-text); font: inherit; text-decoration: none; cursor: pointer; }
a:focus-visible, button:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
p.code { font-family: ui-monospace, monospace; font-size: 0.9rem; }
p.notice { padding: 0.5rem 0.75rem; border-left: 4px solid var(--focus); background: color-mix(in srgb, var(--focus) 10%, Canvas); }
p.hint { font-size: 0.9rem; margin: 0.25rem 0 0; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
ul.sessions { padding-left: 1.2rem; }
ul.sessions li { margin-bottom: 0.75rem; }
ul.sessions form { margin-top: 0.25rem; }
form + form, form + p.hint + form { margin-top: 0.75rem; }
body.console main { max-width: 64rem; align-self: stretch; }
body.console header.site { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1.5rem; }
body.console header.site nav a { color: inherit; }
body.console header.site nav a[aria-current="page"] { font-weight: 600; }
body.console p.viewer { margin: 0 0 0 auto; }
button.secondary { background: Canvas; color: CanvasText; }
img.avatar { width: 2rem; height: 2rem; border-radius: 50%; vertical-align: middle; margin-right: 0.5rem; }
ul.people { list-style: none; padding: 0; }
ul.people li { padding: 0.75rem 0; border-bottom: 1px solid color-mix(in srgb, CanvasText 20%, Canvas); }
ul.people form { display: inline-block; margin: 0.5rem 0.5rem 0 0; }
div.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-size: 0.9rem; padding-bottom: 0.5rem; }
th, td { text-align: left; padding: 0.4rem 0.75rem 0.4rem 0; border-bottom: 1px solid color-mix(in srgb, CanvasText 20%, Canvas); vertical-align: middle; }
body.console ul.status { list-style: none; display: flex; flex-wrap: wrap; gap: 0 1.25rem; margin: 0; padding: 0; width: 100%; font-size: 0.85rem; }
body.console ul.status li.bad { font-weight: 600; color: #cf222e; }
body.console section.service { border-top: 1px solid color-mix(in srgb, CanvasText 20%, Canvas); padding-top: 0.5rem; }
body.console dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.25rem 1rem; }
body.console dt { font-weight: 600; }
body.console dd { margin: 0; overflow-wrap: anywhere; }
body.console ul.values, body.console ul.live { list-style: none; padding: 0; margin: 0; }
body.console ul.values form, body.console ul.live form, body.console form.inline { display: inline-block; margin: 0.25rem 0.5rem 0.25rem 0; }
body.console form.fields, body.console form.filters { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.25rem; max-width: 32rem; }
body.console form.filters { margin-bottom: 1rem; }
body.console input, body.console select, body.console textarea { font: inherit; padding: 0.3rem 0.4rem; max-width: 100%; box-sizing: border-box; }
body.console button { overflow-wrap: break-word; }
/* A phone scrolls a wide table in its own box rather than squeezing its columns a word wide. */
body.console div.table > table { min-width: 44rem; }
body.console td:first-child { white-space: nowrap; }
@media (max-width: 40rem) {
  body.console dl { grid-template-columns: minmax(0, 1fr); }
  body.console dd { margin-bottom: 0.5rem; }
}
body.console input.key { width: 100%; font-family: ui-monospace, monospace; }
body.console td button, body.console dd button, body.console .actions button { padding: 0.3rem 0.7rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

/**
 * The console's copy button: shows each `button[data-copy]` (hidden without script) and copies
 * the named readonly field's value. Without it the field is still there to select by hand.
 */
export const COPY_SCRIPT = `'use strict';
for (const button of document.querySelectorAll('button[data-copy]')) {
  const field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      button.textContent = 'Copied';
    } catch {
      field.select();
    }
  });
}
`;

/**
 * Rewrites each <time datetime> to the person's own time zone; the UTC text the server wrote
 * stays in its title (and on the page, without script: progressive enhancement).
 */
export const LOCAL_TIME_SCRIPT = `'use strict';
for (const element of document.querySelectorAll('time[datetime]')) {
  const moment = new Date(element.getAttribute('datetime'));
  if (Number.isNaN(moment.getTime())) continue;
  if (!element.title) element.title = element.textContent;
  // dateStyle/timeStyle refuse timeZoneName ("Invalid option"): the fields are named one by one.
  element.textContent = moment.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  });
}
`;

/** A key on a rounded square: readable at 16 px, in the light and the dark tab strip alike. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#24292f"/><circle cx="12" cy="16" r="5" fill="none" stroke="#fff" stroke-width="3"/><path d="M17 16h10m-4 0v5m4-5v4" stroke="#fff" stroke-width="3" fill="none"/></svg>
`;
