import { queryAudit } from '../audit/query.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { brandingOf } from '../pages/branding.ts';
import { type AuditFilterValues, auditLink, consoleAuditPage } from '../pages/console-audit.ts';
import { auditFilters } from '../routes/admin.routes.ts';
import { firstIssue } from '../validation/zod-issues.ts';
import type { ConsoleHandler } from './handler.ts';
import { viewerOf } from './handler.ts';

/** How many entries a page shows. */
const ENTRIES_SHOWN = 50;

const FILTER_NAMES = ['kind', 'service', 'user_id', 'success', 'since', 'until'] as const;

/**
 * The audit page: the admin API's audit query (src/audit/query.ts), its filters from a GET form
 * through the admin API's schema, paged with its cursor. A refused filter shows the form again
 * with why (HTTP 400), and no rows.
 */
export const auditPage: ConsoleHandler = async (c, operator) => {
  const filters: AuditFilterValues = {};
  for (const name of FILTER_NAMES) {
    const value = c.req.query(name)?.trim();
    if (value) filters[name] = value;
  }
  const cursor = c.req.query('cursor') || undefined;
  const viewer = await viewerOf(c, operator);
  const parsed = auditFilters.safeParse({ ...filters, limit: String(ENTRIES_SHOWN), ...(cursor ? { cursor } : {}) });
  let refused: string | null = null;
  let page: Awaited<ReturnType<typeof queryAudit>> = { entries: [], nextCursor: null };
  if (!parsed.success) refused = firstIssue(parsed.error, 'query');
  else {
    const f = parsed.data;
    try {
      page = await queryAudit(c.var.database(), {
        limit: f.limit,
        ...(f.kind ? { kinds: [f.kind] } : {}),
        ...(f.service ? { service: f.service } : {}),
        ...(f.user_id ? { userId: f.user_id } : {}),
        ...(f.success ? { success: f.success === 'true' } : {}),
        ...(f.since ? { since: new Date(f.since) } : {}),
        ...(f.until ? { until: new Date(f.until) } : {}),
        ...(f.cursor ? { cursor: f.cursor } : {}),
      });
    } catch (error) {
      if (!(error instanceof GatewayError) || (error.kind !== 'input' && error.kind !== 'not_found')) throw error;
      refused = error.message;
    }
  }
  const html = consoleAuditPage(brandingOf(c.var.config), viewer, {
    filters,
    entries: page.entries,
    nextPage: page.nextCursor ? auditLink({ ...filters, cursor: page.nextCursor }) : null,
    refused,
  });
  return c.html(html, refused ? 400 : 200);
};
