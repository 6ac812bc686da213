import type { ChangeOrigin } from '../../src/changes/origin.ts';

/** The origin tests give a change they make directly (setup, not the behaviour under test). */
export const TEST_OPERATOR: ChangeOrigin = {
  actor: { kind: 'operator', name: 'test-setup' },
  ipAddress: null,
  userAgent: null,
  requestId: null,
  host: 'test',
};
