import { describe, it } from 'vitest';
import { provesIsolation } from '../support/worker/isolation-probe.ts';

// Its twin (isolation-a.test.ts) writes the same table at the same time.
describe('per-file test databases (b)', () => {
  it('see only the rows this file wrote', () => provesIsolation('file-b'));
});
