import { describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase } from '../support/node/databases.ts';

// A filter that can match nothing is a mistake to say so, not a silent "0 entries".

const auditQuery = async (args: string[]) =>
  runOperatorCommand('audit-query', args, { DATABASE_URL: await createDatabase({ migrated: true }) });

describe('audit:query refuses filters that name nothing, and says what it accepts', () => {
  it('an unknown --service exits 1 and says no such service is registered', async () => {
    const result = await auditQuery(['--service', 'billing']);
    expect(result.code).toBe(1);
    expect(result.output).toContain('There is no service "billing"');
    expect(result.output).not.toContain('0 entries');
  });

  it('an unknown --action exits 2 and lists the actions the gateway records', async () => {
    const result = await auditQuery(['--action', 'verfy']);
    expect(result.code).toBe(2);
    expect(result.output).toContain('There is no audit action "verfy"');
    for (const action of ['verify', 'github_token', 'session_exchange', 'session_revoke', 'admin:GET services'])
      expect(result.output).toContain(action);
    expect(result.output).toContain('other:<METHOD> <path>');
    expect(result.output).not.toContain('0 entries');
  });

  it('a route-table action and an other:<METHOD> <route> action are accepted', async () => {
    for (const action of ['session_revoke', 'other:GET /nowhere']) {
      const result = await auditQuery(['--action', action]);
      expect([action, result.code]).toEqual([action, 0]);
      expect(result.output).toContain('0 entries.');
    }
  });
});
