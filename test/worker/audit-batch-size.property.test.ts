import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-event.ts';
import { jsonBytesAtMost } from '../../src/audit/batch.ts';

// Batches are cut by this bound instead of by serializing every event: it must never be below
// what the queue will count, the event's JSON in UTF-8.
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
const anyEvent: fc.Arbitrary<AuditEvent> = fc.record({
  id: fc.uuid(),
  at: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  serviceId: fc.option(fc.uuid()),
  userId: fc.option(anyText),
  action: anyText,
  success: fc.boolean(),
  code: anyText,
  requestId: anyText,
  ipAddress: fc.option(anyText),
  userAgent: fc.option(fc.string({ unit: 'binary', maxLength: 4096 })),
});

describe('an audit event’s size, as batches count it', () => {
  it('is never less than its JSON in UTF-8 bytes, for any text in any field', () => {
    fc.assert(
      fc.property(anyEvent, (event) => {
        expect(jsonBytesAtMost(event)).toBeGreaterThanOrEqual(new TextEncoder().encode(JSON.stringify(event)).length);
      }),
      { numRuns: 2000 },
    );
  });

  it('holds for control characters, which JSON writes as six bytes each', () => {
    const event: AuditEvent = {
      id: crypto.randomUUID(),
      at: new Date().toISOString(),
      serviceId: null,
      userId: null,
      action: 'verify',
      success: false,
      code: 'x',
      requestId: '\u0001'.repeat(1000),
      ipAddress: null,
      userAgent: '\u001f'.repeat(1000),
    };
    expect(jsonBytesAtMost(event)).toBeGreaterThanOrEqual(new TextEncoder().encode(JSON.stringify(event)).length);
  });
});
