/**
 * Reads `npm audit --json` output and decides what CI does with it: fail on a high or critical
 * advisory, pass when there is none, and say plainly when the registry would not run the audit
 * (some mirrors answer its endpoint with 405), since then nothing was checked.
 */
export type AuditVerdict =
  | { kind: 'clean'; counts: Record<string, number> }
  | { kind: 'vulnerable'; counts: Record<string, number>; packages: string[] }
  | { kind: 'unavailable'; reason: string };

const BLOCKING = ['high', 'critical'];

export function judgeAudit(output: string): AuditVerdict {
  let report: unknown;
  try {
    report = JSON.parse(output);
  } catch {
    return { kind: 'unavailable', reason: `npm audit printed no JSON report: ${output.trim().slice(0, 200)}` };
  }
  const counts = (report as { metadata?: { vulnerabilities?: Record<string, number> } }).metadata?.vulnerabilities;
  if (!counts) {
    const message =
      (report as { message?: unknown; error?: { summary?: unknown } }).message ??
      (report as { error?: { summary?: unknown } }).error?.summary;
    return { kind: 'unavailable', reason: typeof message === 'string' ? message : 'the report has no counts' };
  }
  const vulnerabilities = (report as { vulnerabilities?: Record<string, { severity?: string }> }).vulnerabilities ?? {};
  const packages = Object.entries(vulnerabilities)
    .filter(([, entry]) => BLOCKING.includes(entry.severity ?? ''))
    .map(([name, entry]) => `${name} (${entry.severity})`);
  const blocking = BLOCKING.reduce((sum, level) => sum + (counts[level] ?? 0), 0);
  return blocking > 0 ? { kind: 'vulnerable', counts, packages } : { kind: 'clean', counts };
}
