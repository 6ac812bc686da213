import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { COPY_SCRIPT, FAVICON_SVG, LOCAL_TIME_SCRIPT, STYLESHEET } from '../pages/assets.ts';
import { ASSET_ROUTES } from './assets.routes.ts';

const CACHED = { 'Cache-Control': 'public, max-age=3600' };

/** The pages' stylesheet, script and icon (src/pages/assets.ts). */
export const assetRoutes = new Hono<AppEnv>()
  .get(ASSET_ROUTES.stylesheet.path, (c) =>
    c.body(STYLESHEET, 200, { ...CACHED, 'Content-Type': 'text/css; charset=utf-8' }),
  )
  .get(ASSET_ROUTES.localTimeScript.path, (c) =>
    c.body(LOCAL_TIME_SCRIPT, 200, { ...CACHED, 'Content-Type': 'text/javascript; charset=utf-8' }),
  )
  .get(ASSET_ROUTES.copyScript.path, (c) =>
    c.body(COPY_SCRIPT, 200, { ...CACHED, 'Content-Type': 'text/javascript; charset=utf-8' }),
  )
  .get(ASSET_ROUTES.favicon.path, (c) => c.body(FAVICON_SVG, 200, { ...CACHED, 'Content-Type': 'image/svg+xml' }))
  .get(ASSET_ROUTES.faviconIco.path, (c) => c.body(null, 204, CACHED));
