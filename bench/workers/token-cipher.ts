// Benchmark Worker: runs the token cipher n times inside workerd, so the bench can time it from
// outside (inside a Worker the clock does not advance during pure computation).
import { decryptToken, encryptToken, loadTokenKeyring } from '../../src/crypto/token-cipher.ts';

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
const context = { field: 'access_token', userId: '00000000-0000-4000-8000-000000000000' } as const;
const TOKEN = 'ghu_16C7e42F292c6912E7710c838347Ae178B4a';

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const count = Number(url.searchParams.get('n') ?? '0');
    const keyring = await loadTokenKeyring(KEY);
    const sample = await encryptToken(TOKEN, keyring, context);
    let checksum = 0;
    for (let index = 0; index < count; index += 1) {
      if (url.pathname === '/encrypt') checksum += (await encryptToken(TOKEN, keyring, context)).length;
      else checksum += (await decryptToken(sample, keyring, context)).plaintext.length;
    }
    return Response.json({ count, checksum });
  },
};
