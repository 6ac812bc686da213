// node bench/admission-cost.ts (Node 24+: node_modules/.bin/node, as `npm run bench` runs) —
// what admission by organization costs, measured, not tested: a sign-in with one org rule against
// a whitelisted person's, and a verify whose membership re-check is due against one whose check is
// fresh. Database round trips are client frames at the bridge; GitHub calls are requests the
// stand-in received. Each is read when the response arrives and again once the request's work has
// settled (its database connection closed, which the Worker does only after its waitUntil work),
// so the table splits what happened before the response from what happened after it.

import { sql } from 'drizzle-orm';
import { pickStandInUser } from '../scripts/lib/dev/stand-in-github-picker.ts';
import { operatorOrigin } from '../scripts/lib/operator/operator-origin.ts';
import { allowByRule } from '../src/admission/manage-rules.ts';
import { registerService } from '../src/services/register-service.ts';
import { setWhitelisted } from '../src/users/whitelist.ts';
import { type GatewayStack, startGatewayStack, startWorker } from './gateway-stack.ts';

const SIGN_INS = 20;
const VERIFIES = 50;
const DELAYED_VERIFIES = 10;
const GITHUB_DELAY_MS = 500;
const REDIRECT = 'https://bench.example.com/cb';
const ORG = 'acme';
const WHITELISTED = 'bench-person';
const MEMBER = 'org-person';
/** The browser's own request to GitHub during a sign-in: not a call the gateway makes. */
const BROWSER_ROUTE = 'POST /login/oauth/authorize';

interface Counts {
  frames: number;
  connections: number;
  github: Record<string, number>;
}

interface Sample {
  ms: number;
  atResponse: Counts;
  afterSettle: Counts;
}

const stack = await startGatewayStack();
try {
  // The verify cache off: every verify reads the person's session and membership check, so the
  // check's backdating below is seen at once (with the cache on, verify reads them once per window).
  const worker = await startWorker(stack, { cacheSeconds: 0, auditConsumer: false });
  const origin = operatorOrigin();
  const service = await registerService(
    stack.database.db,
    { identifier: 'bench', displayName: 'Bench', scopes: ['users:verify'], redirectUris: [REDIRECT] },
    origin,
  );

  const signIn = async (login: string): Promise<Response> => {
    const start = await fetch(
      new URL(`/login?service=bench&redirect_uri=${encodeURIComponent(REDIRECT)}`, worker.url),
      {
        redirect: 'manual',
      },
    );
    const cookie = start.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const decision = await pickStandInUser(new URL(start.headers.get('location') ?? ''), login);
    const back = new URL(decision.headers.get('location') ?? '');
    const callback = await fetch(new URL(`${back.pathname}${back.search}`, worker.url), {
      headers: { Cookie: cookie },
      redirect: 'manual',
    });
    await callback.arrayBuffer();
    return callback;
  };
  const loginCodeOf = (response: Response): string => {
    const code = new URL(response.headers.get('location') ?? '', 'http://x').searchParams.get('code');
    if (response.status !== 302 || !code) throw new Error(`sign-in not admitted: ${response.status}`);
    return code;
  };

  // 1. The baseline: a whitelisted person, no rules.
  await signIn(WHITELISTED); // the first sign-in makes the person (access pending)
  await setWhitelisted(stack.database.db, { login: WHITELISTED }, true, origin);
  const whitelisted = await measure(stack, SIGN_INS, async () => {
    loginCodeOf(await signIn(WHITELISTED));
  });

  // 2. One org rule, made through the real domain (GitHub resolves the org), and a member of it.
  stack.github.setMembership({ org: ORG, login: MEMBER });
  await allowByRule(
    { db: stack.database.db, github: { oauthUrl: stack.github.url, apiUrl: stack.github.url } },
    { kind: 'org', org: ORG },
    origin,
  );
  const code = loginCodeOf(await signIn(MEMBER)); // the first sign-in makes the person, admitted by the rule
  const member = await measure(stack, SIGN_INS, async () => {
    loginCodeOf(await signIn(MEMBER));
  });

  // 3. Verify of the member's session: the check fresh (from the sign-in), then due.
  const exchange = await fetch(new URL('/v1/sessions/exchange', worker.url), {
    method: 'POST',
    headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, redirect_uri: REDIRECT }),
  });
  const exchanged = (await exchange.json()) as { session: { token: string }; user: { id: string } };
  const userId = exchanged.user.id;
  const verify = async () => {
    const response = await fetch(new URL('/v1/verify', worker.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ session: exchanged.session.token }),
    });
    const body = (await response.json()) as { valid: boolean; code: string };
    if (!body.valid) throw new Error(`verify refused the member: ${body.code}`);
  };
  const checkedAt = async (): Promise<Date> => {
    const rows = await stack.database.db.execute<{ checked_at: Date }>(
      sql`select checked_at from membership_checks where user_id = ${userId}`,
    );
    return new Date(rows.rows[0]?.checked_at ?? 0);
  };
  /** Makes the check due: older than MEMBERSHIP_FRESH_SECONDS (600), no attempt in the last 30 s. */
  const backdate = async () => {
    await stack.database.db.execute(sql`
      update membership_checks
         set checked_at = now() - interval '11 minutes', attempted_at = now() - interval '11 minutes'
       where user_id = ${userId}`);
    return checkedAt();
  };
  /** A due verify is settled once GitHub's answer is saved (checked_at moves) and the pool closed. */
  const dueVerify = async () => {
    const backdated = await backdate();
    return { run: verify, settled: async () => (await checkedAt()).getTime() > backdated.getTime() };
  };

  await verify(); // warm-up (the exchange already wrote the service's last_used_at, due again in a minute)
  const fresh = await measure(stack, VERIFIES, verify);
  const due = await measure(stack, VERIFIES, verify, dueVerify);
  stack.github.delayApiAnswers(GITHUB_DELAY_MS);
  const dueSlow = await measure(stack, DELAYED_VERIFIES, verify, dueVerify);
  stack.github.delayApiAnswers(0);

  printTable([
    { name: 'sign-in, whitelisted, no rules', stat: 'mean', samples: whitelisted },
    { name: 'sign-in, org member, one org rule', stat: 'mean', samples: member },
    { name: 'verify, check fresh', stat: 'p50', samples: fresh },
    { name: 'verify, re-check due', stat: 'p50', samples: due },
    { name: `verify, re-check due, GitHub +${GITHUB_DELAY_MS} ms`, stat: 'p50', samples: dueSlow },
  ]);
  await worker.stop();
} finally {
  await stack.stop();
}

/**
 * `count` requests one after another. Before each, the previous one's work has settled; after each,
 * the counters are read at once (before the response) and again once it has settled (after).
 */
async function measure(
  stack: GatewayStack,
  count: number,
  run: () => Promise<void>,
  prepare?: () => Promise<{ run: () => Promise<void>; settled: () => Promise<boolean> }>,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let index = 0; index < count; index += 1) {
    const prepared = prepare ? await prepare() : { run, settled: async () => true };
    await settle(stack, async () => true);
    const before = counts(stack);
    const started = performance.now();
    await prepared.run();
    const ms = performance.now() - started;
    const atResponse = difference(counts(stack), before);
    await settle(stack, prepared.settled);
    samples.push({ ms, atResponse, afterSettle: difference(counts(stack), before) });
  }
  return samples;
}

/** Waits (at most 10 s) until no database connection is open at the bridge and `done` says so. */
async function settle(stack: GatewayStack, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (stack.bridge.stats.connectionsOpen === 0 && (await done())) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the request did not settle within 10 s');
}

function counts(stack: GatewayStack): Counts {
  const github = stack.github.requestCounts();
  delete github[BROWSER_ROUTE];
  return { frames: stack.bridge.stats.clientFrames, connections: stack.bridge.stats.connectionsOpened, github };
}

function difference(after: Counts, before: Counts): Counts {
  const github: Record<string, number> = {};
  for (const [route, value] of Object.entries(after.github)) {
    const added = value - (before.github[route] ?? 0);
    if (added > 0) github[route] = added;
  }
  return { frames: after.frames - before.frames, connections: after.connections - before.connections, github };
}

function printTable(rows: { name: string; stat: 'mean' | 'p50'; samples: Sample[] }[]): void {
  const calls = (github: Record<string, number>) => Object.values(github).reduce((sum, value) => sum + value, 0);
  const mean = (samples: Sample[], pick: (sample: Sample) => number) =>
    (samples.reduce((sum, sample) => sum + pick(sample), 0) / samples.length).toFixed(2);
  const least = (samples: Sample[], pick: (sample: Sample) => number) => String(Math.min(...samples.map(pick)));
  const columns: [string, number][] = [
    ['scenario', 40],
    ['n', 3],
    ['ms', 11],
    ['db conn', 8],
    ['frames', 7],
    ['at response', 12],
    ['fewest', 7],
    ['GitHub', 7],
    ['at response', 12],
  ];
  const line = (cells: string[]) =>
    cells.map((cell, index) => (index === 0 ? cell.padEnd(40) : cell.padStart(columns[index]?.[1] ?? 0))).join(' ');
  console.log(line(columns.map(([name]) => name)));
  for (const row of rows) {
    const times = row.samples.map((sample) => sample.ms).sort((a, b) => a - b);
    const ms =
      row.stat === 'mean'
        ? times.reduce((sum, value) => sum + value, 0) / times.length
        : (times[Math.floor(times.length / 2)] ?? 0);
    console.log(
      line([
        row.name,
        String(row.samples.length),
        `${row.stat} ${ms.toFixed(1)}`,
        mean(row.samples, (s) => s.afterSettle.connections),
        mean(row.samples, (s) => s.afterSettle.frames),
        mean(row.samples, (s) => s.atResponse.frames),
        least(row.samples, (s) => s.atResponse.frames),
        mean(row.samples, (s) => calls(s.afterSettle.github)),
        mean(row.samples, (s) => calls(s.atResponse.github)),
      ]),
    );
  }
  console.log(
    '\nms: response time (a sign-in: /login, the stand-in picker and the callback). db conn, frames, GitHub:\n' +
      'per request, all of it (until its database connection closed); at response: the part counted when\n' +
      'the response had arrived (mean), and fewest: the least of those (work started in the handler may\n' +
      'overtake the response, so this bounds what the response path itself costs).',
  );
  console.log('GitHub calls per request, by route:');
  for (const row of rows) {
    const byRoute: Record<string, number> = {};
    for (const sample of row.samples) {
      for (const [route, value] of Object.entries(sample.afterSettle.github))
        byRoute[route] = (byRoute[route] ?? 0) + value;
    }
    const routes = Object.entries(byRoute).map(
      ([route, value]) => `${route} ${(value / row.samples.length).toFixed(2)}`,
    );
    console.log(`  ${row.name}: ${routes.join(', ') || 'none'}`);
  }
}
