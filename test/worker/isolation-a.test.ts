import { describe, it } from 'vitest';
import { provesIsolation } from '../support/worker/isolation-probe.ts';

// Its twin (isolation-b.test.ts) writes the same table at the same time.
describe('per-file test databases (a)', () => {
  it('see only the rows this file wrote', () => provesIsolation('file-a'));
});
