import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { STYLESHEET } from '../pages/layout.ts';
import { STYLESHEET_ROUTE } from './sign-in.routes.ts';

/** The pages' stylesheet: an asset, not a page (its errors, if any, are JSON). */
export const assetRoutes = new Hono<AppEnv>().get(STYLESHEET_ROUTE.path, (c) => {
  c.header('Cache-Control', 'public, max-age=3600');
  return c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' });
});
