import { sql } from 'drizzle-orm';
import type { NodeDatabase } from '../../../scripts/lib/node-database.ts';
import { encryptToken, type TokenKeyring } from '../../../src/crypto/token-cipher.ts';

export type TokenRow = {
  id: string;
  access_token: string | null;
  refresh_token: string | null;
};

/**
 * Inserts `count` users whose tokens follow `pattern` per row: 'plain' (old-system plaintext),
 * 'null', or 'sealed' (encrypted under `keyring`). Returns the plaintext each row should decrypt to.
 */
export async function seedTokenRows(
  { db }: NodeDatabase,
  count: number,
  pattern: (index: number) => { access: 'plain' | 'null' | 'sealed'; refresh: 'plain' | 'null' | 'sealed' },
  keyring?: TokenKeyring,
): Promise<Map<string, { access: string | null; refresh: string | null }>> {
  const expected = new Map<string, { access: string | null; refresh: string | null }>();
  const ids: string[] = [];
  const access: (string | null)[] = [];
  const refresh: (string | null)[] = [];
  const value = async (
    kind: 'plain' | 'null' | 'sealed',
    token: string,
    field: 'access_token' | 'refresh_token',
    userId: string,
  ) => {
    if (kind === 'null') return { stored: null, plain: null };
    if (kind === 'plain') return { stored: token, plain: token };
    if (!keyring) throw new Error('sealed tokens need a keyring');
    return { stored: await encryptToken(token, keyring, { field, userId }), plain: token };
  };
  for (let index = 0; index < count; index += 1) {
    const id = crypto.randomUUID();
    const kinds = pattern(index);
    const a = await value(kinds.access, `gho_access${index}x${id.slice(0, 8)}`, 'access_token', id);
    const r = await value(kinds.refresh, `ghr_refresh${index}x${id.slice(0, 8)}`, 'refresh_token', id);
    ids.push(id);
    access.push(a.stored);
    refresh.push(r.stored);
    expected.set(id, { access: a.plain, refresh: r.plain });
  }
  for (let start = 0; start < count; start += 5_000) {
    // One array parameter each: drizzle would spread a plain array into a row of parameters.
    const slice = (list: unknown[]) => sql.param(list.slice(start, start + 5_000));
    await db.execute(sql`
      insert into users (id, github_user_id, access_token, refresh_token, created_at, updated_at)
      select id, id::text, a, r, now(), now()
        from unnest(${slice(ids)}::uuid[], ${slice(access)}::text[], ${slice(refresh)}::text[]) as t(id, a, r)`);
  }
  return expected;
}

export async function readTokenRows({ db }: NodeDatabase): Promise<TokenRow[]> {
  const result = await db.execute<TokenRow>(sql`select id, access_token, refresh_token from users order by id`);
  return result.rows;
}
