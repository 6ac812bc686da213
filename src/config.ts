import * as z from 'zod';
import { previousKeysProblem, signingKeyProblem } from './crypto/assertion-keys.ts';
import { previousSecrets } from './crypto/keyring.ts';
import { decodeMasterKey } from './crypto/token-cipher.ts';
import { BRIDGE_SECRET_PATTERN } from './validation/bridge-secret.ts';
import { isHttpsOrLoopbackHttp, isLoopbackHost } from './validation/loopback.ts';
import { membershipFreshSeconds, membershipHardSeconds } from './validation/membership-seconds.ts';
import { gatewayContact, gatewayLogoUrl, gatewayName } from './validation/page-words.ts';
import { isPostgresUrl } from './validation/postgres-url.ts';
import { standingAccessSeconds } from './validation/standing-access-seconds.ts';
import { issueField } from './validation/zod-issues.ts';

const postgresUrl = z
  .string({ error: 'is missing' })
  .trim()
  .min(1, { error: 'is missing' })
  .refine(isPostgresUrl, { error: 'must be a postgres:// or postgresql:// URL with a host' });

/** The local bridge is reached over plain ws:// (no TLS), so only on this machine. */
const loopbackHostPort = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, { error: 'must be host:port' })
  .refine((value) => isLoopbackHost(value.slice(0, value.lastIndexOf(':'))), {
    error: 'must be a loopback host:port (127.0.0.1, localhost or [::1]): the bridge is reached without TLS',
  });

const bridgeSecret = z
  .string()
  .trim()
  .regex(BRIDGE_SECRET_PATTERN, { error: 'must be base64url of at least 32 bytes (npm run dev sets it)' });

/**
 * An https URL, or http to a loopback host (the stand-in GitHub, `wrangler dev`): the client
 * secret, codes and tokens travel to these addresses, so never in clear over a network.
 */
const httpsUrl = z
  .string()
  .trim()
  .refine((value) => URL.canParse(value) && isHttpsOrLoopbackHttp(new URL(value)), {
    error: 'must be an https URL (http only to localhost or 127.0.0.1)',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const masterKey = z
  .string({ error: 'is missing' })
  .trim()
  .min(1, { error: 'is missing' })
  .refine(isMasterKey, { error: 'must be base64 of 32 bytes (npx gateway tokens generate-key makes one)' });

const masterKeyList = z
  .string()
  .trim()
  .refine((value) => previousSecrets(value).every(isMasterKey), {
    error: 'must be comma-separated base64 keys of 32 bytes',
  });

/** A setting checked by a function that says what is wrong (never quoting the value), or null. */
function checkedBy(problem: (value: string) => string | null) {
  return z.string().superRefine((value, context) => {
    const message = problem(value);
    if (message !== null) context.addIssue({ code: 'custom', message });
  });
}

const configSchema = z.object({
  DATABASE_URL: postgresUrl,
  // Empty counts as unset, so a blank line in .dev.vars does not break every request.
  /** Optional: a read replica's pooled connection string, for the verify path's lookups (docs/deploy.md). */
  DATABASE_REPLICA_URL: z.preprocess((value) => (value === '' ? undefined : value), postgresUrl.optional()),
  /** Local only: loopback host:port of the WebSocket-to-TCP bridge (docs/decisions.md, "bridge"). */
  DATABASE_WS_PROXY: loopbackHostPort.optional(),
  /** Local only: the bridge's per-run secret, required with DATABASE_WS_PROXY. */
  DATABASE_WS_PROXY_SECRET: bridgeSecret.optional(),
  /** base64 of 32 random bytes: the master key GitHub tokens are encrypted under (docs/security.md). */
  TOKEN_ENCRYPTION_KEY: masterKey,
  /** Comma-separated earlier master keys, still accepted for decryption during a rotation. */
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: masterKeyList.default(''),
  /** `refuse` once `migrate:encrypt-tokens` left no plaintext token: one stored since is never handed out. */
  TOKEN_PLAINTEXT: z.enum(['read', 'refuse'], { error: 'must be read or refuse' }).default('read'),
  /** base64 of 32 random bytes: signs session tokens and seals the sign-in cookie. */
  SESSION_SECRET: masterKey,
  /** Comma-separated earlier session secrets, still accepted for checking during a rotation. */
  SESSION_SECRET_PREVIOUS: masterKeyList.default(''),
  GITHUB_CLIENT_ID: z.string({ error: 'is missing' }).trim().min(1, { error: 'is missing' }),
  GITHUB_CLIENT_SECRET: z.string({ error: 'is missing' }).trim().min(1, { error: 'is missing' }),
  /** GitHub's web host (authorize, token): github.com, a GitHub Enterprise Server, or the local stand-in. */
  GITHUB_OAUTH_URL: httpsUrl.default('https://github.com'),
  /** GitHub's REST API root: api.github.com, `https://HOST/api/v3` on Enterprise Server, or the stand-in. */
  GITHUB_API_URL: httpsUrl.default('https://api.github.com'),
  /** How long a session lasts. */
  SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(2_592_000).default(86_400),
  /**
   * How long after a service's latest session for a person expired it may still fetch their GitHub
   * token by user id (0: not past the session; at most 180 days). Signing out ends it at once.
   */
  STANDING_ACCESS_SECONDS: standingAccessSeconds,
  /** Bound on staleness of cached key verifications and session lookups, in seconds (0: no cache). */
  VERIFY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  /**
   * Requests one rate-limiter call lets an isolate answer (src/http/rate-limit-lease.ts): with N,
   * SERVICE_RATE_LIMIT's and CLIENT_RATE_LIMIT's limits count leases of N requests. 1: a call per request.
   */
  RATE_LIMIT_LEASE: z.coerce.number().int().min(1).max(100).default(1),
  /**
   * How old a person's last org and team membership check may be and still be used as it is; older,
   * verify re-checks after its response (docs/api.md, "Admission by organization and team").
   */
  MEMBERSHIP_FRESH_SECONDS: membershipFreshSeconds,
  /** Past this with no check GitHub answered, verify refuses (`membership_unverified`): fail closed. */
  MEMBERSHIP_HARD_SECONDS: membershipHardSeconds,
  /**
   * Optional: the Ed25519 private JWK (with its kid) that signs the assertions the exchange and
   * /v1/sessions/assertion return (docs/api.md, "Assertions verified offline"); unset, none are issued.
   */
  ASSERTION_SIGNING_KEY: z.preprocess(
    (value) => (value === '' ? undefined : value),
    checkedBy(signingKeyProblem).optional(),
  ),
  /** The public JWKs of signing keys being rotated out (a JSON array), still in the JWKS. */
  ASSERTION_PREVIOUS_KEYS: checkedBy(previousKeysProblem).default(''),
  /** How long an assertion is good for, in seconds: the revocation bound of an offline verify. */
  ASSERTION_TTL_SECONDS: z.coerce.number().int().min(30).max(300).default(300),
  /** The gateway's public origin, for GitHub's callback URL; required unless the gateway is reached on loopback. */
  PUBLIC_URL: httpsUrl.optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** The gateway's name in every page's title and header (default "Gateway"). */
  GATEWAY_NAME: gatewayName,
  /** Optional: an https logo shown in every page's header; the pages' CSP allows exactly its origin. */
  GATEWAY_LOGO_URL: gatewayLogoUrl,
  /** Optional: one line for people not let in, on the pending and signed-out pages ("Ask #it-help for access"). */
  GATEWAY_CONTACT: gatewayContact,
});

/**
 * Each setting the schema reads, as the Worker is handed it: a string, or absent. Secrets are set
 * with `wrangler secret put` (production) or handed to `wrangler dev` by `npm run dev`, and
 * settings with defaults are absent from wrangler.toml unless a deployment changes them, so
 * `wrangler types` sees neither: their names come from the schema, never a second list.
 */
export type ConfigBindings = { [Name in keyof z.input<typeof configSchema>]?: string };

/**
 * Everything the Worker is bound to: generated vars and bindings plus the settings above. The audit
 * and events queues and the rate limiters are optional: without a queue audit rows are written
 * directly and events delivered directly, and without a limiter there is no limit (local setups
 * that lack them).
 */
export type Bindings = Omit<Env, 'AUDIT_QUEUE' | 'EVENTS_QUEUE' | 'SERVICE_RATE_LIMIT' | 'CLIENT_RATE_LIMIT'> &
  Omit<ConfigBindings, keyof Env> & {
    AUDIT_QUEUE?: Queue;
    EVENTS_QUEUE?: Queue;
    SERVICE_RATE_LIMIT?: RateLimit;
    CLIENT_RATE_LIMIT?: RateLimit;
  };

/** Rules across bindings, checked after each binding's own. */
const configRules = configSchema.superRefine(requireBridgeSecret).superRefine(orderMembershipBounds);

function orderMembershipBounds(
  config: { MEMBERSHIP_FRESH_SECONDS: number; MEMBERSHIP_HARD_SECONDS: number },
  context: z.RefinementCtx,
): void {
  if (config.MEMBERSHIP_HARD_SECONDS < config.MEMBERSHIP_FRESH_SECONDS) {
    context.addIssue({
      code: 'custom',
      path: ['MEMBERSHIP_HARD_SECONDS'],
      message: 'must be at least MEMBERSHIP_FRESH_SECONDS: a result is re-checked before it stops counting',
    });
  }
}

function requireBridgeSecret(
  config: { DATABASE_WS_PROXY?: string | undefined; DATABASE_WS_PROXY_SECRET?: string | undefined },
  context: z.RefinementCtx,
): void {
  if (config.DATABASE_WS_PROXY && !config.DATABASE_WS_PROXY_SECRET) {
    context.addIssue({
      code: 'custom',
      path: ['DATABASE_WS_PROXY_SECRET'],
      message: 'is missing: the bridge named by DATABASE_WS_PROXY asks for its per-run secret (npm run dev sets both)',
    });
  }
}

export type Config = z.infer<typeof configSchema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

// The env object is the same for every request an isolate serves, so parse it once per object.
const parsed = new WeakMap<object, ConfigResult>();

/**
 * Validates the Worker's bindings. Problems name the binding and what is wrong with it, never its
 * value: a malformed secret must not reach the log.
 */
export function readConfig(env: Bindings): ConfigResult {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = configRules.safeParse(env);
  const outcome: ConfigResult = result.success
    ? { ok: true, config: result.data }
    : { ok: false, problems: result.error.issues.map(describeIssue) };
  parsed.set(env, outcome);
  return outcome;
}

function isMasterKey(value: string): boolean {
  try {
    decodeMasterKey(value);
    return true;
  } catch {
    return false;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const name = issueField(issue, '(bindings)');
  const message = issue.code === 'invalid_type' ? 'is missing' : issue.message;
  return `${name} ${message}`;
}
