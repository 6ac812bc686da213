import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import { withLockedTokenRow } from '../db/user-tokens.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { type GitHubAppCredentials, GitHubError, refreshTokens } from '../github/client.ts';
import type { Logger } from '../http/logger.ts';
import { openGitHubTokens } from './github-tokens.ts';
import { loadGitHubTokens, storeGitHubTokens } from './stored-github-tokens.ts';

/** A token expiring sooner than this is refreshed before it is handed out. */
export const REFRESH_MARGIN_SECONDS = 300;

export interface FreshGitHubToken {
  accessToken: string;
  expiresAt: Date | null;
  refreshed: boolean;
}

export type FreshTokenFailure = 'no_token' | 'refresh_failed';

/** The stored token cannot be handed out (409): the person must sign in again. */
export class FreshTokenError extends GatewayError<FreshTokenFailure> {
  constructor(code: FreshTokenFailure, message: string, cause?: unknown) {
    super(code, 'conflict', message, { cause });
  }
}

/**
 * The person's GitHub access token, refreshed first when it expires within the margin. GitHub
 * refresh tokens are single use, so the refresh happens under the user row's lock
 * (`SELECT ... FOR UPDATE`): concurrent callers queue, the first refreshes and stores the new pair
 * encrypted, the others then find it fresh. Exactly one refresh, whatever the concurrency.
 * A refused refresh is logged with GitHub's own error code (never a token) when `log` is given.
 */
export async function freshGitHubAccessToken(
  deps: { db: Database; keyring: TokenKeyring; github: GitHubAppCredentials; log?: Logger },
  userId: string,
  now = new Date(),
): Promise<FreshGitHubToken> {
  const current = await loadGitHubTokens(deps.db, deps.keyring, userId);
  if (!current?.accessToken)
    throw new FreshTokenError('no_token', 'This person has no GitHub token; they need to sign in.');
  if (isFresh(current.expiresAt, now))
    return { accessToken: current.accessToken, expiresAt: current.expiresAt, refreshed: false };

  return withLockedTokenRow(deps.db, userId, async (row, tx) => {
    if (!row) throw new FreshTokenError('no_token', 'This person no longer exists.');
    const locked = await openGitHubTokens(deps.keyring, row);
    if (locked.accessToken && isFresh(row.expiresAt, now)) {
      return { accessToken: locked.accessToken, expiresAt: row.expiresAt, refreshed: false };
    }
    if (!locked.refreshToken) {
      throw new FreshTokenError(
        'refresh_failed',
        'The GitHub token expired and there is no refresh token; the person needs to sign in.',
      );
    }
    let fresh: Awaited<ReturnType<typeof refreshTokens>>;
    try {
      fresh = await refreshTokens(deps.github, locked.refreshToken);
    } catch (error) {
      const code = error instanceof GitHubError ? error.code : 'github_error';
      deps.log?.warn('github_token.refresh_refused', {
        userId,
        code,
        serverError: error instanceof GitHubError ? error.serverError : null,
      });
      throw new FreshTokenError(
        'refresh_failed',
        `GitHub did not refresh the token (${code}); the person needs to sign in.`,
      );
    }
    await storeGitHubTokens(tx, deps.keyring, userId, {
      accessToken: fresh.accessToken,
      // RFC 6749 §6: a server that issues no new refresh token keeps the old one valid.
      refreshToken: fresh.refreshToken ?? locked.refreshToken,
      expiresAt: fresh.accessTokenExpiresAt,
    });
    return { accessToken: fresh.accessToken, expiresAt: fresh.accessTokenExpiresAt, refreshed: true };
  });
}

function isFresh(expiresAt: Date | null, now: Date): boolean {
  return expiresAt === null || expiresAt.getTime() > now.getTime() + REFRESH_MARGIN_SECONDS * 1000;
}
