import { spawnSync } from 'node:child_process';
import { calculateJwkThumbprint, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadAssertionKeys, previousKeysProblem, signingKeyProblem } from '../../src/crypto/assertion-keys.ts';

/** `gateway tokens generate-assertion-key`, as an operator runs it: stdout and stderr apart. */
function generate() {
  const run = spawnSync(process.execPath, ['bin/gateway.js', 'tokens', 'generate-assertion-key'], {
    encoding: 'utf8',
    env: { ...process.env, DEV_VARS_FILE: '/nonexistent/.dev.vars' },
  });
  return { code: run.status, lines: run.stdout.trim().split('\n'), stderr: run.stderr };
}

describe('gateway tokens generate-assertion-key', () => {
  it('prints a private JWK ASSERTION_SIGNING_KEY takes and its public JWK ASSERTION_PREVIOUS_KEYS takes, exit 0', async () => {
    const { code, lines, stderr } = generate();
    expect(code).toBe(0);
    expect(lines).toHaveLength(2);
    const [privateLine = '', publicLine = ''] = lines;
    expect(signingKeyProblem(privateLine)).toBeNull();
    expect(previousKeysProblem(`[${publicLine}]`)).toBeNull();
    const privateJwk = JSON.parse(privateLine) as Record<string, string>;
    const publicJwk = JSON.parse(publicLine) as Record<string, string>;
    expect(publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: privateJwk.x,
      kid: privateJwk.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(stderr).toContain('npx wrangler secret put ASSERTION_SIGNING_KEY');

    // The two halves are one key pair: what the private key signs, the published key verifies.
    const keys = await loadAssertionKeys(privateLine, '');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: privateJwk.kid ?? '' })
      .sign(keys.signing?.privateKey ?? new Uint8Array());
    await expect(jwtVerify(token, publicJwk)).resolves.toBeDefined();
  });

  it('makes a new key each run, its kid its RFC 7638 thumbprint (so two keys never share one)', async () => {
    const a = JSON.parse(generate().lines[0] ?? '') as { kid: string; d: string; x: string };
    const b = JSON.parse(generate().lines[0] ?? '') as { kid: string; d: string; x: string };
    expect(a.kid).not.toBe(b.kid);
    expect(a.d).not.toBe(b.d);
    expect(a.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: a.x }));
  });
});
