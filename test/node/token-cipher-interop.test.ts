import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Unstable_DevWorker, unstable_dev } from 'wrangler';

/**
 * The scheme of docs/security.md written again, independently, with node:crypto: an operator
 * with only the documentation and the key can read and write tokens.
 */
const INFO = 'edge-github-gateway/token-encryption/v1';

function valueKey(masterKey: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(masterKey, 'base64'), salt, INFO, 32));
}

function aad(field: string, userId: string): Buffer {
  return Buffer.from(`gateway-token-v1|${field}|${userId}`, 'utf8');
}

function nodeEncrypt(plaintext: string, masterKey: string, field: string, userId: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', valueKey(masterKey, salt), iv);
  cipher.setAAD(aad(field, userId));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [salt, iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('hex')).join(':');
}

function nodeDecrypt(stored: string, masterKey: string, field: string, userId: string): string {
  const [salt, iv, tag, ciphertext] = stored.split(':').map((part) => Buffer.from(part, 'hex')) as [
    Buffer,
    Buffer,
    Buffer,
    Buffer,
  ];
  expect([salt.length, iv.length, tag.length]).toEqual([16, 12, 16]);
  const decipher = createDecipheriv('aes-256-gcm', valueKey(masterKey, salt), iv);
  decipher.setAAD(aad(field, userId));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}

let worker: Unstable_DevWorker;

beforeAll(async () => {
  worker = await unstable_dev('test/support/cipher-worker.ts', {
    config: 'test/support/cipher-worker.toml',
    ip: '127.0.0.1',
    logLevel: 'error',
    experimental: { disableExperimentalWarning: true },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
});

async function inWorkerd(op: 'encrypt' | 'decrypt', key: string, value: string, field: string, userId: string) {
  const response = await worker.fetch('http://worker/', {
    method: 'POST',
    body: JSON.stringify({ op, key, value, context: { field, userId } }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { value: string }).value;
}

describe('the documented scheme, between workerd and node:crypto', () => {
  const key = randomBytes(32).toString('base64');
  const userId = '0b7e2c8a-9d5f-4c3b-8a1e-2f6d7c9b0a11';
  const samples = [
    '',
    'gho_16C7e42F292c6912E7710c838347Ae178B4a',
    'ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246',
    'токен 🔑',
  ];

  it('values the Worker writes decrypt with node:crypto', async () => {
    for (const plaintext of samples) {
      const stored = await inWorkerd('encrypt', key, plaintext, 'access_token', userId);
      expect(nodeDecrypt(stored, key, 'access_token', userId)).toBe(plaintext);
    }
  });

  it('values node:crypto writes decrypt in the Worker', async () => {
    for (const plaintext of samples) {
      const stored = nodeEncrypt(plaintext, key, 'refresh_token', userId);
      expect(await inWorkerd('decrypt', key, stored, 'refresh_token', userId)).toBe(plaintext);
    }
  });
});
