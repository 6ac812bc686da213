import { pickStandInUser } from '../scripts/lib/dev/stand-in-github-picker.ts';
import { operatorOrigin } from '../scripts/lib/operator/operator-origin.ts';
import { registerService } from '../src/services/register-service.ts';
import { setWhitelisted } from '../src/users/whitelist.ts';
import type { GatewayStack } from './gateway-stack.ts';

const BENCH_OPERATOR = operatorOrigin();

const REDIRECT = 'https://bench.example.com/cb';

export interface BenchData {
  serviceKey: string;
  serviceId: string;
  /** The id the operator registered it by (`--id`): an assertion's audience. */
  serviceIdentifier: string;
  sessionToken: string;
  userId: string;
}

/** A service with every scope and one whitelisted person signed in through it, the real way. */
export async function seedBenchData(stack: GatewayStack, workerUrl: URL): Promise<BenchData> {
  const service = await registerService(
    stack.database.db,
    {
      identifier: 'bench',
      displayName: 'Bench',
      scopes: ['users:verify', 'github:token'],
      redirectUris: [REDIRECT],
    },
    BENCH_OPERATOR,
  );
  const signIn = async () => {
    const start = await fetch(new URL(`/login?service=bench&redirect_uri=${encodeURIComponent(REDIRECT)}`, workerUrl), {
      redirect: 'manual',
    });
    const cookie = start.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const authorize = new URL(start.headers.get('location') ?? '');
    const decision = await pickStandInUser(authorize, 'bench-person');
    const back = new URL(decision.headers.get('location') ?? '');
    return fetch(new URL(`${back.pathname}${back.search}`, workerUrl), {
      headers: { Cookie: cookie },
      redirect: 'manual',
    });
  };
  await (await signIn()).text(); // first sign-in: access pending
  await setWhitelisted(stack.database.db, { login: 'bench-person' }, true, BENCH_OPERATOR);
  const code = new URL((await signIn()).headers.get('location') ?? '').searchParams.get('code');
  const exchange = await fetch(new URL('/v1/sessions/exchange', workerUrl), {
    method: 'POST',
    headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, redirect_uri: REDIRECT }),
  });
  const body = (await exchange.json()) as { session: { token: string }; user: { id: string } };
  return {
    serviceKey: service.key,
    serviceId: service.id,
    serviceIdentifier: 'bench',
    sessionToken: body.session.token,
    userId: body.user.id,
  };
}
