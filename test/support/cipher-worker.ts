// A test-only Worker that exposes the token cipher, so a Node test can cross values between
// workerd's WebCrypto and node:crypto. Never deployed: the gateway has no such endpoint.
import { decryptToken, encryptToken, loadTokenKeyring, type TokenContext } from '../../src/crypto/token-cipher.ts';

interface CipherRequest {
  op: 'encrypt' | 'decrypt';
  key: string;
  value: string;
  context: TokenContext;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const { op, key, value, context } = (await request.json()) as CipherRequest;
    const keyring = await loadTokenKeyring(key);
    if (op === 'encrypt') return Response.json({ value: await encryptToken(value, keyring, context) });
    return Response.json({ value: (await decryptToken(value, keyring, context)).plaintext });
  },
};
