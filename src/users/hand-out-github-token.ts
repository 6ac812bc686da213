import { TokenCipherError, type TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import { hasSignedInThrough } from '../db/sessions.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { GitHubAppCredentials } from '../github/client.ts';
import type { Logger } from '../http/logger.ts';
import type { VerifyCode, VerifyOutcome } from '../verify/verify-person.ts';
import { type FreshGitHubToken, freshGitHubAccessToken } from './fresh-github-token.ts';

export type TokenRefusalCode = 'foreign_user' | 'token_unreadable' | Exclude<VerifyCode, 'ok'>;

/** Why no token is handed out: the service may not act for this person (403), or the token is unusable (409). */
export class TokenRefusedError extends GatewayError<TokenRefusalCode> {
  constructor(code: TokenRefusalCode, message: string, cause?: unknown) {
    super(code, code === 'token_unreadable' ? 'conflict' : 'forbidden', message, { cause });
  }
}

export interface HandOutTokenDeps {
  db: Database;
  /** Loaded only once the person is allowed: a key that cannot be loaded is a misconfiguration (500). */
  keyring: () => Promise<TokenKeyring>;
  github: GitHubAppCredentials;
  log: Logger;
  standingAccessSeconds: number;
  /** Who the request names, verified on the primary: a token goes out only to a person it says is signed in and allowed. */
  verifyOnPrimary: () => Promise<VerifyOutcome>;
}

/**
 * A person's GitHub token for a service that may act for them. A session token already belongs
 * to the service (foreign_session otherwise). A bare user id must be someone the service has
 * standing access to (signed in through it, not signed out of it, its latest session expired less
 * than STANDING_ACCESS_SECONDS ago): a service acts on GitHub only for people who came to it
 * lately, not for anyone whose id it learns. Checked first, so such a service learns nothing else
 * about an id.
 */
export async function handOutGitHubToken(
  deps: HandOutTokenDeps,
  request: { serviceId: string; userId?: string | undefined },
): Promise<FreshGitHubToken> {
  if (
    request.userId !== undefined &&
    !(await hasSignedInThrough(deps.db, request.userId, request.serviceId, deps.standingAccessSeconds))
  ) {
    throw new TokenRefusedError(
      'foreign_user',
      'This person has not signed in through your service lately (or has signed out of it); no token is handed out.',
    );
  }
  const outcome = await deps.verifyOnPrimary();
  const person = outcome.valid ? outcome.person : null;
  if (outcome.code !== 'ok' || !person) {
    throw new TokenRefusedError(
      outcome.code === 'ok' ? 'unknown_user' : outcome.code,
      'This person is not signed in and allowed in; no token is handed out.',
    );
  }
  const keyring = await deps.keyring();
  try {
    return await freshGitHubAccessToken({ db: deps.db, keyring, github: deps.github, log: deps.log }, person.id);
  } catch (error) {
    if (!(error instanceof TokenCipherError)) throw error;
    // The operator's problem (a missing previous key, or a token the old system encrypted), the
    // person's remedy: a new sign-in writes new tokens. Logged by code only, never the value.
    deps.log.error('github_token.unreadable', { userId: person.id, code: error.code });
    throw new TokenRefusedError(
      'token_unreadable',
      'The stored GitHub token for this person cannot be decrypted here; they must sign in again.',
      error,
    );
  }
}
