import { hostname, userInfo } from 'node:os';
import type { ChangeOrigin } from '../../../src/changes/origin.ts';

/** The most of an operator's name a change record keeps. */
const MAX_NAME = 200;

/**
 * Who runs an operator command, for its change record: GATEWAY_OPERATOR when set (a person's
 * name where the OS user is shared, e.g. a deploy account), else `<OS user>@<host>`; from the host.
 */
export function operatorOrigin(env: NodeJS.ProcessEnv = process.env): ChangeOrigin {
  const host = hostname();
  const named = env.GATEWAY_OPERATOR?.trim();
  return {
    actor: { kind: 'operator', name: (named || `${osUser()}@${host}`).slice(0, MAX_NAME) },
    ipAddress: null,
    userAgent: null,
    requestId: null,
    host,
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers).
    return `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
