import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Bindings } from '../../src/config.ts';
import { toBase64Url, utf8 } from '../../src/crypto/encoding.ts';
import { MAX_JSON_BODY_BYTES } from '../../src/http/json-body.ts';
import worker from '../../src/index.ts';
import { ALL_ROUTES, PAGES } from '../../src/routes/route-table.ts';
import { SIGN_IN_COOKIE } from '../../src/sign-in/attempt.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { endlessBody } from '../support/worker/endless-body.ts';
import { SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

// Random and adversarial requests against every route: the answer is always a 4xx (or 2xx/3xx)
// in the documented shape, never a 5xx, and nothing secret comes back.

let database: TestDatabase;
let bindings: Bindings;
let service: RegisteredService;
let admin: RegisteredService;
let sessionToken: string;
beforeAll(async () => {
  database = await createTestDatabase();
  service = await registerService(database, {
    scopes: ['users:verify', 'github:token'],
    redirectUris: [SERVICE_REDIRECT],
  });
  admin = await registerService(database, { scopes: ['admin'] });
  // What the admin calls may change or rotate, so the two services above keep working.
  await registerService(database, { identifier: 'victim', redirectUris: [SERVICE_REDIRECT] });
  sessionToken = (await signedInPerson(database, service, 'fuzz')).token;
  // Without the rate limiter, so that the real keys keep reaching the handlers behind it.
  const { SERVICE_RATE_LIMIT: _limiter, ...rest } = database.env;
  bindings = rest;
}, 60_000);

// Every route the gateway serves comes from its route table, so a new route is fuzzed too.
const BROWSER_PATHS = PAGES.map((page) => page.path);
/** The other routes' paths, a path parameter filled in (the weighted target below fills it at random). */
const API_PATHS = ALL_ROUTES.filter((route) => !BROWSER_PATHS.includes(route.path)).map((route) =>
  route.path.replace(':id', 'not-a-service'),
);

/** Strings long and random enough that finding one in a response can only mean it was echoed. */
const secretLike = fc.stringMatching(/^[A-Za-z0-9_-]{24,48}$/);
const keyLike = fc.oneof(
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9]{12}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/))
    .map(([id, secret]) => `gwk_${id}_${secret}`),
  secretLike.map((secret) => `gwk_${secret}`),
  secretLike,
);
const sessionLike = fc.oneof(
  fc
    .tuple(fc.uuid(), fc.integer({ min: 0, max: 4_102_444_800 }), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/))
    .map(([id, expiry, signature]) => `gws_${id}.${expiry}.${signature}`),
  secretLike.map((secret) => `gws_${secret}`),
  secretLike,
);

interface HostileRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string | Uint8Array | null;
  /** Values the response must never contain. */
  secrets: string[];
}

/** Text as an attacker sends it: printable, any Unicode, control characters, NUL. */
const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '%00',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    "' or 1=1 --",
    '\ud800',
  ),
);

/** An audit cursor as the gateway encodes one, around any time and id. */
function cursorOf(at: string, id: string): string {
  return toBase64Url(utf8(JSON.stringify([at, id])));
}

/** Percent-encoded, as a client would put it in a path (a lone surrogate cannot be encoded at all). */
function asPathSegment(text: string): string {
  try {
    return encodeURIComponent(text) || 'x';
  } catch {
    return '%ED%A0%80';
  }
}

const ROUTES: [method: string, path: string][] = ALL_ROUTES.map((route) => [route.method.toUpperCase(), route.path]);

/** Mostly a real route with its own method (so requests get past routing), sometimes anything. */
const target = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...ROUTES), fc.oneof(fc.constant('victim'), anyText.map(asPathSegment)))
      .map(([[method, path], id]) => ({ method, path: path.replace(':id', id) })),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      path: fc.oneof(
        fc.constantFrom(...BROWSER_PATHS, ...API_PATHS),
        fc.webPath(),
        fc.constantFrom('/v1/../v1/verify', '//v1/verify', '/v1/verify/', '/%2e%2e/', '/%ZZ', '/v1/%00'),
      ),
    }),
  },
);

const jsonBody = fc
  .record(
    {
      session: fc.oneof(sessionLike, fc.constant('real'), anyText, fc.anything()),
      user_id: fc.oneof(fc.uuid(), anyText, fc.anything()),
      code: fc.oneof(secretLike, anyText, fc.anything()),
      id: fc.oneof(anyText, fc.stringMatching(/^[a-z0-9-]{1,20}$/)),
      name: anyText,
      scopes: fc.array(fc.oneof(fc.constantFrom('users:verify', 'github:token', 'admin'), anyText), { maxLength: 4 }),
      redirect_uris: fc.array(fc.oneof(fc.webUrl(), anyText), { maxLength: 3 }),
      active: fc.oneof(fc.boolean(), anyText),
      grace_seconds: fc.oneof(fc.integer(), fc.double(), anyText),
      login: fc.oneof(anyText, fc.stringMatching(/^[A-Za-z0-9-]{1,39}$/), fc.integer()),
      github_id: fc.oneof(anyText, fc.stringMatching(/^\d{1,20}$/), fc.integer()),
      allowed: fc.oneof(fc.boolean(), anyText),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value) ?? 'null');

const hostileRequest = fc
  .record({
    target,
    query: fc.oneof(
      fc.constant(''),
      fc.webQueryParameters(),
      fc
        .dictionary(
          fc.constantFrom(
            'service',
            'redirect_uri',
            'state',
            'code',
            'error',
            'cursor',
            'limit',
            'since',
            'until',
            'action',
            'success',
            'user_id',
          ),
          fc.oneof(
            anyText,
            secretLike,
            fc.webUrl(),
            fc.constant('%ZZ'),
            fc.constant(SERVICE_REDIRECT),
            // Times JS holds and Postgres does not, and cursors that carry them.
            fc.constantFrom('0000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '0x18', '1e1'),
            fc
              .tuple(fc.date({ noInvalidDate: true }), fc.oneof(fc.uuid(), anyText))
              .map(([at, id]) => cursorOf(at.toISOString(), id)),
          ),
        )
        .map((entries) => new URLSearchParams(entries).toString()),
    ),
    key: fc.option(fc.oneof(keyLike, fc.constant('real'), fc.constant('admin'), fc.constant('admin')), {
      nil: null,
      freq: 8,
    }),
    authorizationScheme: fc.oneof(
      { weight: 6, arbitrary: fc.constant('Bearer ') },
      { weight: 1, arbitrary: fc.constantFrom('bearer  ', 'Basic ', '') },
    ),
    gatewayService: fc.option(fc.oneof(fc.string(), fc.constant('fuzz')), { nil: null }),
    cookieSession: fc.option(fc.oneof(sessionLike, fc.constant('real')), { nil: null }),
    cookieSignIn: fc.option(secretLike, { nil: null }),
    contentType: fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'APPLICATION/JSON',
        ),
      },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    extraHeaders: fc.dictionary(
      fc.constantFrom(
        'X-Request-Id',
        'Accept',
        'User-Agent',
        'Origin',
        'X-Forwarded-For',
        'CF-Connecting-IP',
        'Content-Length',
      ),
      fc.string({ maxLength: 300 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
    ),
    body: fc.option(
      fc.oneof({ weight: 4, arbitrary: jsonBody }, fc.json(), fc.string(), fc.uint8Array({ maxLength: 64 })),
      { nil: null, freq: 6 },
    ),
  })
  .map((drawn): HostileRequest => {
    const secrets: string[] = [];
    const headers: Record<string, string> = { ...drawn.extraHeaders };
    // Content-Length is the runtime's to set from the body; a drawn one is only kept when there is none.
    if (drawn.body !== null) delete headers['Content-Length'];
    const key = drawn.key === 'real' ? service.key : drawn.key === 'admin' ? admin.key : drawn.key;
    if (key !== null) {
      headers.Authorization = `${drawn.authorizationScheme}${key}`;
      secrets.push(key);
    }
    if (drawn.gatewayService !== null) headers['X-Gateway-Service'] = drawn.gatewayService.replace(/[^\x20-\x7e]/g, '');
    const cookies: string[] = [];
    if (drawn.cookieSession !== null) {
      const value = drawn.cookieSession === 'real' ? sessionToken : drawn.cookieSession;
      cookies.push(`${SESSION_COOKIE}=${value}`);
      secrets.push(value);
    }
    if (drawn.cookieSignIn !== null) {
      cookies.push(`${SIGN_IN_COOKIE}=${drawn.cookieSignIn}`);
      secrets.push(drawn.cookieSignIn);
    }
    if (cookies.length > 0) headers.Cookie = cookies.join('; ');
    if (drawn.contentType !== null) headers['Content-Type'] = drawn.contentType;
    let body = drawn.body;
    if (typeof body === 'string' && body.includes('"real"'))
      body = body.replaceAll('"real"', JSON.stringify(sessionToken));
    if (typeof body === 'string') {
      // The body's secrets: a session token or a login code long enough to be one.
      for (const match of body.matchAll(/"(?:session|code)":"([^"\\]{24,})"/g)) secrets.push(match[1] ?? '');
    }
    const bodyAllowed = drawn.target.method !== 'GET' && drawn.target.method !== 'HEAD';
    return {
      method: drawn.target.method,
      path: drawn.target.path,
      query: drawn.query,
      headers,
      body: bodyAllowed ? body : null,
      secrets,
    };
  });

/** What may never appear in any answer, whatever was asked. */
function configuredSecrets(): string[] {
  const password = new URL(database.url).password;
  return [
    env.TOKEN_ENCRYPTION_KEY,
    env.SESSION_SECRET,
    env.GITHUB_CLIENT_SECRET,
    ...(password.length >= 8 ? [password] : []),
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
}

async function send(request: HostileRequest): Promise<{ response: Response; text: string }> {
  // Built by hand: a path like `//x` would be read as a host by new URL(path, base).
  const target = `https://gateway.test${request.path.startsWith('/') ? '' : '/'}${request.path}${request.query ? `?${request.query}` : ''}`;
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(target, {
      method: request.method,
      headers: request.headers,
      ...(request.body === null ? {} : { body: request.body }),
      redirect: 'manual',
    }),
    bindings,
    ctx,
  );
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  return { response, text };
}

function isBrowserPath(path: string): boolean {
  return BROWSER_PATHS.includes(path) || path.startsWith('/auth/');
}

describe('hostile requests to every route', () => {
  it('never get a 5xx, always get errors in the documented shape, and never see a secret', async () => {
    const statuses = new Map<number, number>();
    // Work after the response (the audit row, last_used_at) must not fail either.
    const errorLogs = vi.spyOn(console, 'error');
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (request) => {
        const { response, text } = await send(request);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(
          response.status,
          `${request.method} ${request.path}?${request.query}: ${text.slice(0, 200)}`,
        ).toBeLessThan(500);
        if (response.status >= 400 && request.method !== 'HEAD') {
          const type = response.headers.get('content-type') ?? '';
          if (type.startsWith('text/html')) {
            expect(isBrowserPath(new URL(request.path, 'https://x').pathname)).toBe(true);
            expect(text).toContain('<!doctype html>');
          } else {
            expect(type).toMatch(/^application\/json/);
            const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof body.error?.code).toBe('string');
            expect(typeof body.error?.message).toBe('string');
          }
        }
        const everything = `${text}\n${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}`;
        for (const secret of [...request.secrets, ...configuredSecrets()]) {
          // A session cookie being cleared or re-set names the cookie, never an old value.
          expect(everything.includes(secret), `echoed ${secret.slice(0, 8)}...`).toBe(false);
        }
      }),
      { numRuns: 400, endOnFailure: true },
    );
    console.log(
      `statuses of ${[...statuses.values()].reduce((a, b) => a + b, 0)} hostile requests:`,
      Object.fromEntries(statuses),
    );
    expect(errorLogs.mock.calls.map((call) => String(call[0]))).toEqual([]);
    // The run reached past authentication, not only 401s.
    expect([...statuses.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
  }, 240_000);
});

describe('the body-size limit', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('https://gateway.test/v1/verify', {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json', ...headers },
      body,
      // @ts-expect-error: workerd needs no duplex flag, and the DOM types do not know it
      duplex: 'half',
    });

  it('is 413 for a body sent without Content-Length that passes the limit', async () => {
    const big = JSON.stringify({ session: 'x'.repeat(MAX_JSON_BODY_BYTES) });
    const stream = new Blob([big]).stream();
    const ctx = createExecutionContext();
    const response = await worker.fetch(post(stream), bindings, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('is 413 for a body that never ends, having read no more than the limit', async () => {
    const { endless, sent } = endlessBody();
    const ctx = createExecutionContext();
    const response = await worker.fetch(post(endless), bindings, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(413);
    await response.arrayBuffer();
    // A few chunks of read-ahead at most, not the whole (infinite) body.
    expect(sent()).toBeLessThan(MAX_JSON_BODY_BYTES + 8 * 1024);
  });

  it.each([
    ['shorter than the body', '10'],
    ['under the limit', String(MAX_JSON_BODY_BYTES - 1)],
  ])(
    'is 413 for an endless body whose Content-Length (%s) says otherwise, having read no more than the limit',
    async (_, declared) => {
      const { endless, sent } = endlessBody();
      const ctx = createExecutionContext();
      // Over HTTP a body is as long as its Content-Length; a Request made in code is not bound by it,
      // so the header never decides how much is read (reading such a body whole never returned).
      const response = await worker.fetch(post(endless, { 'Content-Length': declared }), bindings, ctx);
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(413);
      await response.arrayBuffer();
      expect(sent()).toBeLessThan(MAX_JSON_BODY_BYTES + 8 * 1024);
    },
  );

  it('answers once the Content-Length’s bytes have come, without waiting for a stream that stays open', async () => {
    const body = new TextEncoder().encode(JSON.stringify({ user_id: crypto.randomUUID() }));
    const openEnded = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body);
        // Never closed: the declared length is what says the body is complete.
      },
    });
    const ctx = createExecutionContext();
    const response = await worker.fetch(post(openEnded, { 'Content-Length': String(body.byteLength) }), bindings, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { valid: boolean }).valid).toBe(false);
  });

  it('is 400 for bytes that are not UTF-8, not a crash', async () => {
    const response = await callWorker(bindings, '/v1/verify', {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });
});

describe('admin routes: input Postgres cannot hold is refused with a 400 before any query', () => {
  function adminCall(method: string, path: string, body?: unknown) {
    return callWorker(bindings, path, {
      method,
      headers: {
        Authorization: `Bearer ${admin.key}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function expectRefused(response: Response, code: string, label: string) {
    const text = await response.text();
    expect([label, response.status, text]).toEqual([label, 400, expect.any(String)]);
    expect(JSON.parse(text)).toMatchObject({ error: { code, message: expect.any(String) } });
  }

  it('a display name with NUL or another C0/C1 control character: 400 invalid_service, and nothing is registered', async () => {
    const names = ['a\u0000b', 'line\nscopes: admin', 'title\u001b]0;x\u0007', 'csi\u009b2J', 'del\u007f', 'tab\tname'];
    for (const [index, name] of names.entries()) {
      const id = `named-${index}`;
      const response = await adminCall('POST', '/v1/admin/services', { id, name });
      await expectRefused(response, 'invalid_service', JSON.stringify(name));
      const listed = (await (await adminCall('GET', '/v1/admin/services')).json()) as { services: { id: string }[] };
      expect(listed.services.map((service) => service.id)).not.toContain(id);
    }
  });

  it('a display name with an invisible format or separator character (U+202E, U+200B, U+FEFF, U+2028): 400 invalid_service', async () => {
    const names = ['\u202eevil', '\u200b', 'zero\ufeffwidth', 'two\u2028lines', 'tag\u{e0041}'];
    for (const [index, name] of names.entries()) {
      const id = `invisible-${index}`;
      await expectRefused(
        await adminCall('POST', '/v1/admin/services', { id, name }),
        'invalid_service',
        JSON.stringify(name),
      );
    }
    const plain = await adminCall('POST', '/v1/admin/services', { id: 'visible-name', name: 'Billing – Zürich 🚀' });
    expect(plain.status).toBe(201);
  });

  it('since and until outside the years 1970 to 9999: 400 invalid_query', async () => {
    for (const filter of ['since', 'until']) {
      for (const time of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '0001-01-01T00:00:00Z']) {
        const response = await adminCall('GET', `/v1/admin/audit?${filter}=${encodeURIComponent(time)}`);
        await expectRefused(response, 'invalid_query', `${filter}=${time}`);
      }
    }
    const inRange = await adminCall('GET', '/v1/admin/audit?since=1970-01-01T00:00:00Z&until=9999-12-31T23:59:59Z');
    expect(inRange.status).toBe(200);
  });

  it('a cursor whose time is outside 1970 to 9999, or whose id is not a canonical UUID: 400 invalid_query', async () => {
    const uuid = crypto.randomUUID();
    const cursors: [string, string][] = [
      ['0000-01-01T00:00:00.000Z', uuid],
      ['+275760-09-13T00:00:00.000Z', uuid],
      ['-000001-01-01T00:00:00.000Z', uuid],
      ['1969-12-31T23:59:59.000Z', uuid],
      ['2026-01-01T00:00:00.000Z', '-'.repeat(36)],
      ['2026-01-01T00:00:00.000Z', 'f'.repeat(36)],
      ['2026-01-01T00:00:00.000Z', uuid.toUpperCase()],
    ];
    for (const [at, id] of cursors) {
      const response = await adminCall('GET', `/v1/admin/audit?cursor=${cursorOf(at, id)}`);
      await expectRefused(response, 'invalid_query', `${at} ${id}`);
    }
    const issued = await adminCall('GET', `/v1/admin/audit?cursor=${cursorOf('2026-01-01T00:00:00.000Z', uuid)}`);
    expect(issued.status).toBe(200);
  });

  it('limit takes plain decimal digits only: 400 invalid_query for "", " 5", "0x18", "1e1", "5.0", "-1"', async () => {
    for (const limit of ['', ' 5', '0x18', '1e1', '5.0', '-1', '+5']) {
      const response = await adminCall('GET', `/v1/admin/audit?limit=${encodeURIComponent(limit)}`);
      await expectRefused(response, 'invalid_query', `limit=${JSON.stringify(limit)}`);
    }
    expect((await adminCall('GET', '/v1/admin/audit?limit=24')).status).toBe(200);
  });

  it('grace_seconds is a JSON integer: a string, a fraction or a negative number is 400 invalid_body', async () => {
    for (const grace of ['24', '', 1e-9, 1.5, -1, '0x18']) {
      const response = await adminCall('POST', '/v1/admin/services/victim/rotate-key', { grace_seconds: grace });
      await expectRefused(response, 'invalid_body', JSON.stringify(grace));
    }
  });
});
