import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLIENT_DIR = new URL('../../client/', import.meta.url).pathname;

let scratch: string;
let tarball: string;
let files: string[];
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gateway-client-'));
  // npm pack builds dist first (the package's prepack), then packs only what `files` names.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: CLIENT_DIR });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(scratch, packed?.filename ?? '');
  files = packed?.files.map((file) => file.path) ?? [];
}, 120_000);
afterAll(() => rm(scratch, { recursive: true, force: true }));

async function scratchProject(name: string): Promise<string> {
  const project = join(scratch, name);
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  // From the tarball alone: --offline (and an empty cache of its own) fails if anything would be downloaded.
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(scratch, `${name}-cache`), tarball],
    { cwd: project },
  );
  return project;
}

describe('the client as a service installs it: npm pack, then a scratch project that is not this one', () => {
  it('the tarball holds the built package only: package.json and dist (JavaScript and declarations)', () => {
    expect(files).toContain('package.json');
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/hono.js',
        'dist/events.js',
        'dist/events-route.js',
      ]),
    );
    expect(files.filter((path) => path !== 'package.json' && !path.startsWith('dist/'))).toEqual([]);
  });

  it('installed offline from the tarball, an .mjs file imports it and builds a sign-in link with PKCE S256', async () => {
    const project = await scratchProject('a-service');
    await writeFile(
      join(project, 'sign-in.mjs'),
      `import { createGatewayClient } from '@edge-github-gateway/client';
import { requireGatewaySession } from '@edge-github-gateway/client/hono';
const client = createGatewayClient({ gatewayUrl: 'https://gateway.example.com', serviceId: 'billing', key: 'gwk_x' });
const link = await client.signInLink({ redirectUri: 'https://billing.example.com/auth/done' });
console.log(JSON.stringify({ ...link, middleware: typeof requireGatewaySession(client) }));
`,
    );
    const { stdout } = await run(process.execPath, ['sign-in.mjs'], { cwd: project });
    const link = JSON.parse(stdout) as { url: string; state: string; codeVerifier: string; middleware: string };
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}`).toBe('https://gateway.example.com/login');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      service: 'billing',
      redirect_uri: 'https://billing.example.com/auth/done',
      state: link.state,
      code_challenge: createHash('sha256').update(link.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    expect(link.middleware).toBe('function');
  });

  it('installed from the tarball, verifyEvent and the gatewayEvents route check an event signed with node:crypto', async () => {
    const project = await scratchProject('an-events-receiver');
    await writeFile(
      join(project, 'events.mjs'),
      `import { createHmac, randomBytes } from 'node:crypto';
import { verifyEvent } from '@edge-github-gateway/client';
import { gatewayEvents } from '@edge-github-gateway/client/hono';
const key = randomBytes(32);
const secret = 'whsec_' + key.toString('base64');
const id = 'msg_' + randomBytes(16).toString('hex');
const timestamp = String(Math.floor(Date.now() / 1000));
const body = JSON.stringify({ type: 'admission.ended', timestamp: new Date().toISOString(),
  data: { user: { id: 'u1', github_id: '1', login: 'octocat' }, reason: 'not_whitelisted' } });
const signature = 'v1,' + createHmac('sha256', key).update(id + '.' + timestamp + '.' + body).digest('base64');
const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
const checked = await verifyEvent({ headers, body }, secret);
const again = await verifyEvent({ headers, body }, secret);
console.log(JSON.stringify({ ok: checked.ok, type: checked.event?.type, again, route: typeof gatewayEvents({ secret, onEvent() {} }) }));
`,
    );
    const { stdout } = await run(process.execPath, ['events.mjs'], { cwd: project });
    expect(JSON.parse(stdout)).toEqual({
      ok: true,
      type: 'admission.ended',
      again: { ok: false, reason: 'replayed' },
      route: 'function',
    });
  });
});
