import { STYLESHEET_ROUTE } from './sign-in.routes.ts';

/**
 * The pages' static files: assets, not pages (their errors, if any, are JSON). `/favicon.ico`
 * answers 204: every page links the SVG, which browsers use; a client that asks for the .ico
 * anyway (a JSON answer opened in a tab) gets nothing rather than a 404.
 */
export const ASSET_ROUTES = {
  stylesheet: STYLESHEET_ROUTE,
  localTimeScript: { method: 'get', path: '/assets/local-time.js' },
  copyScript: { method: 'get', path: '/assets/copy.js' },
  favicon: { method: 'get', path: '/favicon.svg' },
  faviconIco: { method: 'get', path: '/favicon.ico' },
} as const;
