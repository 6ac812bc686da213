import { describe, expect, it } from 'vitest';
import { judgeAudit } from '../../scripts/lib/ci/advisory-report.ts';

// The shapes `npm audit --json` prints (npm 10/11, audit report version 2), and what a
// registry that refuses the audit endpoint makes it print.
const report = (counts: Record<string, number>, vulnerabilities: Record<string, { severity: string }> = {}) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...counts } },
  });

describe('judging npm audit output for CI', () => {
  it('fails on a high or a critical advisory and names the packages', () => {
    const verdict = judgeAudit(
      report({ high: 1, moderate: 1, total: 2 }, { hono: { severity: 'high' }, zod: { severity: 'moderate' } }),
    );
    expect(verdict).toMatchObject({ kind: 'vulnerable', packages: ['hono (high)'] });
    expect(judgeAudit(report({ critical: 1, total: 1 }, { x: { severity: 'critical' } })).kind).toBe('vulnerable');
  });

  it('passes with only low or moderate advisories', () => {
    expect(judgeAudit(report({ low: 2, moderate: 1, total: 3 })).kind).toBe('clean');
  });

  it('says the audit was unavailable when the registry refused it, instead of calling it clean', () => {
    const refused = JSON.stringify({ message: '405 Method Not Allowed - POST .../advisories/bulk', statusCode: 405 });
    expect(judgeAudit(refused)).toEqual({
      kind: 'unavailable',
      reason: '405 Method Not Allowed - POST .../advisories/bulk',
    });
    expect(judgeAudit('').kind).toBe('unavailable');
    expect(judgeAudit(JSON.stringify({ error: { code: 'ENOAUDIT', summary: 'no audit here' } }))).toEqual({
      kind: 'unavailable',
      reason: 'no audit here',
    });
  });
});
