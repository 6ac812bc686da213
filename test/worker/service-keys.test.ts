import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { serviceRegistry } from '../../drizzle/schema.ts';
import {
  generateServiceKey,
  hashServiceKey,
  iterationsFor,
  MAX_PBKDF2_ITERATIONS,
  OLD_SYSTEM_KEY_ITERATIONS,
  PBKDF2_ITERATIONS,
  standInHashFor,
  verifyServiceKey,
} from '../../src/crypto/service-keys.ts';
import { rotateServiceKey } from '../../src/services/admin.ts';
import { authenticateService } from '../../src/services/authenticate-service.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { insertLegacyService as insertOldSystemService } from '../support/worker/legacy-service.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

const withDb: TestDatabase['use'] = (work) => database.use(work);

function iterationsOf(hash: string): number {
  return Number(hash.split('$')[1]);
}

describe('service key hashes', () => {
  it('never use more PBKDF2 iterations than production Workers accept', async () => {
    // Cloudflare's own limit, written out here: raising the constants in the source must fail this.
    const WORKERS_PBKDF2_LIMIT = 100_000;
    expect(MAX_PBKDF2_ITERATIONS).toBeLessThanOrEqual(WORKERS_PBKDF2_LIMIT);
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(MAX_PBKDF2_ITERATIONS);
    const hashes = [
      (await generateServiceKey()).hash,
      await hashServiceKey('gwk_x'),
      await hashServiceKey('gwk_x', MAX_PBKDF2_ITERATIONS),
    ];
    for (const hash of hashes) expect(iterationsOf(hash)).toBeLessThanOrEqual(MAX_PBKDF2_ITERATIONS);
    await expect(hashServiceKey('gwk_x', MAX_PBKDF2_ITERATIONS + 1)).rejects.toThrow(RangeError);
  });

  it('refuse to verify against a stored hash above the bound instead of computing it', async () => {
    const { key, hash } = await generateServiceKey();
    const inflated = hash.replace(/^pbkdf2-sha256\$\d+\$/, `pbkdf2-sha256$${MAX_PBKDF2_ITERATIONS + 1}$`);
    expect(await verifyServiceKey(key, hash)).toBe(true);
    expect(await verifyServiceKey(key, inflated)).toBe(false);
  });

  it('are self-describing and salted: the same key hashes differently each time', async () => {
    const first = await hashServiceKey('gwk_same');
    const second = await hashServiceKey('gwk_same');
    expect(first).toMatch(/^pbkdf2-sha256\$\d+\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second);
    expect(await verifyServiceKey('gwk_same', first)).toBe(true);
    expect(await verifyServiceKey('gwk_other', first)).toBe(false);
  });
});

/** A service as the old system left it: a bcrypt hash and no key id. Returns its identifier. */
async function insertLegacyService(legacyKey: string, cost = 4): Promise<string> {
  return (await insertOldSystemService(database, legacyKey, { cost })).identifier;
}

/** A service whose gwk_ key is stored as keys issued before 2026-12 are: 10,000 iterations. */
async function insertServiceHashedAt10000(): Promise<{ key: string; storedHash: () => Promise<string> }> {
  const { key, keyId, hash } = await generateServiceKey(10_000);
  const identifier = `older-${crypto.randomUUID().slice(0, 8)}`;
  await withDb((db) =>
    db.insert(serviceRegistry).values({ serviceIdentifier: identifier, displayName: 'Older', apiKeyHash: hash, keyId }),
  );
  const storedHash = async () =>
    (
      await withDb((db) => db.select().from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, identifier)))
    )[0]?.apiKeyHash ?? '';
  return { key, storedHash };
}

describe('a key hashed with another iteration count', () => {
  it('verifies, is rewritten with today’s count on its first success, and keeps working', async () => {
    const { key, storedHash } = await insertServiceHashedAt10000();
    expect(iterationsOf(await storedHash())).toBe(10_000);
    const wrong = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(
      await withDb((db) => authenticateService(db, { key: wrong, serviceIdentifier: null }, new Date())),
    ).toMatchObject({
      ok: false,
      code: 'invalid_key',
    });
    // A wrong key leaves it as it is.
    expect(iterationsOf(await storedHash())).toBe(10_000);
    const presented = { key, serviceIdentifier: null };
    expect(await withDb((db) => authenticateService(db, presented, new Date()))).toMatchObject({ ok: true });
    expect(iterationsOf(await storedHash())).toBe(PBKDF2_ITERATIONS);
    expect(await withDb((db) => authenticateService(db, presented, new Date()))).toMatchObject({ ok: true });
  });

  it('with background work, answers first and rewrites the hash once that work is done', async () => {
    const { key, storedHash } = await insertServiceHashedAt10000();
    const background: Promise<unknown>[] = [];
    await withDb(async (db) => {
      const result = await authenticateService(db, { key, serviceIdentifier: null }, new Date(), {
        background: (work) => background.push(work),
      });
      expect(result).toMatchObject({ ok: true });
      expect(background).toHaveLength(1);
      await Promise.all(background);
    });
    expect(iterationsOf(await storedHash())).toBe(PBKDF2_ITERATIONS);
  });
});

describe('each kind of key', () => {
  it('is hashed, and refused when unknown, with its own count: gwk_ keys 1,000, old-system keys 10,000', () => {
    const gwk = 'gwk_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect(iterationsFor(gwk)).toBe(PBKDF2_ITERATIONS);
    expect(iterationsOf(standInHashFor(gwk))).toBe(PBKDF2_ITERATIONS);
    expect(iterationsFor('sk_live_old_system_key')).toBe(OLD_SYSTEM_KEY_ITERATIONS);
    expect(iterationsOf(standInHashFor('sk_live_old_system_key'))).toBe(OLD_SYSTEM_KEY_ITERATIONS);
    expect(OLD_SYSTEM_KEY_ITERATIONS).toBe(10_000);
  });
});

describe('a key the old system issued (bcrypt)', () => {
  it('verifies once by service id, is rehashed to PBKDF2, and keeps working', async () => {
    const legacyKey = 'sk_live_old_system_key_0123456789';
    const identifier = await insertLegacyService(legacyKey, 10);
    const presented = { key: legacyKey, serviceIdentifier: identifier };
    const first = await withDb((db) => authenticateService(db, presented, new Date()));
    expect(first).toMatchObject({ ok: true, service: { identifier } });
    const [row] = await withDb((db) =>
      db.select().from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, identifier)),
    );
    // Its entropy is the old system's, so it keeps the count old-system keys had, not a gwk_ key's.
    expect(row?.apiKeyHash).toMatch(/^pbkdf2-sha256\$10000\$/);
    expect(await withDb((db) => authenticateService(db, presented, new Date()))).toMatchObject({ ok: true });
    expect(
      await withDb((db) => authenticateService(db, { ...presented, key: `${legacyKey}x` }, new Date())),
    ).toMatchObject({
      ok: false,
      code: 'invalid_key',
    });
    // Without the service id an old-system key cannot be looked up.
    expect(
      await withDb((db) => authenticateService(db, { key: legacyKey, serviceIdentifier: null }, new Date())),
    ).toMatchObject({
      ok: false,
      code: 'malformed_key',
    });
  });
});

describe('a rotated key', () => {
  it('keeps the previous key working until the grace period ends, then only the new one', async () => {
    const old = await generateServiceKey();
    const next = await generateServiceKey();
    const now = new Date();
    const graceEnds = new Date(now.getTime() + 3600_000);
    await withDb((db) =>
      db.insert(serviceRegistry).values({
        serviceIdentifier: `rotated-${crypto.randomUUID().slice(0, 8)}`,
        displayName: 'Rotated',
        apiKeyHash: next.hash,
        keyId: next.keyId,
        previousKeyId: old.keyId,
        previousKeyHash: old.hash,
        previousKeyExpiresAt: graceEnds,
      }),
    );
    const check = (key: string, at: Date) =>
      withDb((db) => authenticateService(db, { key, serviceIdentifier: null }, at));
    expect(await check(old.key, now)).toMatchObject({ ok: true });
    expect(await check(next.key, now)).toMatchObject({ ok: true });
    const after = new Date(graceEnds.getTime() + 1000);
    expect(await check(old.key, after)).toMatchObject({ ok: false, code: 'invalid_key' });
    expect(await check(next.key, after)).toMatchObject({ ok: true });
  });

  it('an old-system key keeps working through the grace period of a rotation away from it, then ends', async () => {
    const legacyKey = 'sk_live_old_system_key_rotated_away';
    const identifier = await insertLegacyService(legacyKey);
    const now = new Date();
    const rotated = await withDb((db) => rotateServiceKey(db, identifier, 3600, now, { origin: TEST_OPERATOR }));
    expect(rotated.previousKeyExpiresAt?.getTime()).toBe(now.getTime() + 3600_000);
    const legacy = { key: legacyKey, serviceIdentifier: identifier };
    const check = (presented: { key: string; serviceIdentifier: string | null }, at: Date) =>
      withDb((db) => authenticateService(db, presented, at));

    expect(await check(legacy, now)).toMatchObject({ ok: true, service: { identifier } });
    // Its first use rehashed the previous key (not the new one) to PBKDF2; it still works after that.
    const [row] = await withDb((db) =>
      db.select().from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, identifier)),
    );
    expect(row?.previousKeyHash).toMatch(/^pbkdf2-sha256\$/);
    expect(row?.previousKeyId).toBeNull();
    expect(await check(legacy, now)).toMatchObject({ ok: true });
    expect(await check({ key: `${legacyKey}x`, serviceIdentifier: identifier }, now)).toMatchObject({
      ok: false,
      code: 'invalid_key',
    });
    expect(await check({ key: rotated.key, serviceIdentifier: null }, now)).toMatchObject({ ok: true });

    const after = new Date(now.getTime() + 3600_000 + 1000);
    expect(await check(legacy, after)).toMatchObject({ ok: false, code: 'unknown_key' });
    expect(await check({ key: rotated.key, serviceIdentifier: null }, after)).toMatchObject({ ok: true });
  });

  it('with a grace of 0 the old-system key ends at once', async () => {
    const legacyKey = 'sk_live_old_system_key_ended_now';
    const identifier = await insertLegacyService(legacyKey);
    const rotated = await withDb((db) => rotateServiceKey(db, identifier, 0, undefined, { origin: TEST_OPERATOR }));
    expect(rotated.previousKeyExpiresAt).toBeNull();
    expect(
      await withDb((db) => authenticateService(db, { key: legacyKey, serviceIdentifier: identifier }, new Date())),
    ).toMatchObject({ ok: false, code: 'unknown_key' });
  });
});

describe('a key that matches nothing', () => {
  it('costs one PBKDF2 like a wrong key, whether or not its key id or old-system service exists', async () => {
    const legacyKey = 'sk_live_old_system_key_timed';
    const legacy = await insertLegacyService(legacyKey);
    // Its first use rehashes it to PBKDF2, as happens to every old-system key in use.
    expect(
      await withDb((db) => authenticateService(db, { key: legacyKey, serviceIdentifier: legacy }, new Date())),
    ).toMatchObject({ ok: true });
    const current = await generateServiceKey();
    const currentIdentifier = `current-${crypto.randomUUID().slice(0, 8)}`;
    await withDb((db) =>
      db.insert(serviceRegistry).values({
        serviceIdentifier: currentIdentifier,
        displayName: 'Current',
        apiKeyHash: current.hash,
        keyId: current.keyId,
      }),
    );
    const unknownKey = (await generateServiceKey()).key;
    const wrongSecret = `${current.key.slice(0, 17)}${'x'.repeat(43)}`;
    const attempts: [string, { key: string; serviceIdentifier: string | null }][] = [
      ['wrong secret of an existing key id', { key: wrongSecret, serviceIdentifier: null }],
      ['unknown key id', { key: unknownKey, serviceIdentifier: null }],
      ['wrong old-system key', { key: 'sk_live_guess', serviceIdentifier: legacy }],
      [
        'old-system-style key for a service without one',
        { key: 'sk_live_guess', serviceIdentifier: currentIdentifier },
      ],
      ['old-system-style key for an unknown service', { key: 'sk_live_guess', serviceIdentifier: 'no-such-service' }],
    ];
    const derivations: Record<string, number> = {};
    for (const [what, presented] of attempts) {
      const deriveBits = vi.spyOn(crypto.subtle, 'deriveBits');
      const result = await withDb((db) => authenticateService(db, presented, new Date()));
      expect(result.ok, what).toBe(false);
      derivations[what] = deriveBits.mock.calls.length;
      deriveBits.mockRestore();
    }
    expect(derivations).toEqual(Object.fromEntries(attempts.map(([what]) => [what, 1])));
  });
});
