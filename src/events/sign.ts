import { utf8 } from '../crypto/encoding.ts';

/**
 * The `webhook-signature` header of the Standard Webhooks specification: for each key, `v1,` and
 * the base64 (padded) of HMAC-SHA256 over `<id>.<timestamp>.<body>`, space-separated, in the order
 * given (the new secret first during a rotation's grace period). WebCrypto only.
 */
export async function webhookSignature(
  message: { id: string; timestamp: number; body: string },
  keys: Uint8Array<ArrayBuffer>[],
): Promise<string> {
  const signed = utf8(`${message.id}.${message.timestamp}.${message.body}`);
  const signatures = await Promise.all(
    keys.map(async (bytes) => {
      const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, signed));
      return `v1,${btoa(String.fromCharCode(...mac))}`;
    }),
  );
  return signatures.join(' ');
}
