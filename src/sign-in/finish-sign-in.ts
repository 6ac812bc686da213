import * as z from 'zod';
import { constantTimeEqual, utf8 } from '../crypto/encoding.ts';
import { signSessionToken } from '../crypto/session-tokens.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import { createLoginCode } from '../db/login-codes.ts';
import { createSession } from '../db/sessions.ts';
import { type GitHubAppCredentials, GitHubError } from '../github/client.ts';
import type { Logger } from '../http/logger.ts';
import { openAttempt, type SignInAttempt } from './attempt.ts';
import { completeGitHubSignIn } from './complete-sign-in.ts';
import { SignInError } from './sign-in-error.ts';

/** What GitHub sends the browser back with. */
const githubAnswer = z.object({
  code: z.string().max(512).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(100).optional(),
});

export type GitHubAnswer = z.infer<typeof githubAnswer>;

/**
 * GitHub's answer, when it answers this browser's own attempt (the cookie's state): anyone can
 * send a browser to the callback (a link, an image), so a request that does not carry this
 * attempt's state is refused before anything else happens; it cancels nothing, deletes nothing.
 */
export async function checkSignInAnswer(
  answer: { query: Record<string, string>; attemptCookie: string | undefined },
  cookieOpening: readonly CryptoKey[],
): Promise<{ attempt: SignInAttempt; answer: GitHubAnswer }> {
  const parsed = githubAnswer.safeParse(answer.query);
  if (!parsed.success) throw new SignInError('invalid_request', 'GitHub sent back a malformed answer. Start again.');
  const attempt = answer.attemptCookie ? await openAttempt(answer.attemptCookie, cookieOpening) : null;
  if (!attempt) {
    throw new SignInError(
      'sign_in_expired',
      'This sign-in expired or was started in another browser. Start again from the service.',
    );
  }
  if (!parsed.data.state || !constantTimeEqual(utf8(parsed.data.state), utf8(attempt.state))) {
    throw new SignInError('state_mismatch', 'This answer from GitHub does not belong to your sign-in. Start again.');
  }
  return { attempt, answer: parsed.data };
}

export interface FinishSignInDeps {
  db: Database;
  /** Loaded only once GitHub has sent a code. */
  keyring: () => Promise<TokenKeyring>;
  github: GitHubAppCredentials;
  log: Logger;
  /** Signs the gateway's own session token. */
  tokenSigning: CryptoKey;
  sessionTtlSeconds: number;
}

/** Where a finished sign-in leaves the person. */
export type FinishedSignIn =
  /** Known now, but not (yet) whitelisted: the access-pending page, with a way to try again. */
  | { kind: 'access_pending'; login: string | null; retryPath: string }
  /** Back to the service that sent them, with a login code (and the service's state). */
  | { kind: 'to_service'; location: string }
  /** Signed in to the gateway itself: its session token for the cookie. */
  | { kind: 'signed_in'; sessionToken: string; ttlSeconds: number };

/**
 * Finishes a checked attempt (`checkSignInAnswer`): GitHub's code for the person's tokens and
 * profile (completeGitHubSignIn), then, if they are whitelisted, a login code for the service
 * that sent them or a session of the gateway's own.
 */
export async function finishSignIn(
  deps: FinishSignInDeps,
  { attempt, answer }: { attempt: SignInAttempt; answer: GitHubAnswer },
): Promise<FinishedSignIn> {
  if (answer.error)
    throw new SignInError('github_denied', 'GitHub did not sign you in (you may have cancelled). Start again.');
  if (!answer.code) throw new SignInError('invalid_request', 'GitHub sent back no code. Start again.');
  const user = await completeGitHubSignIn(
    { db: deps.db, keyring: await deps.keyring(), github: deps.github },
    // Exactly the redirect_uri the authorize step sent, never rebuilt from this request.
    { code: answer.code, codeVerifier: attempt.verifier, redirectUri: attempt.githubRedirectUri },
  ).catch((error: unknown) => {
    if (!(error instanceof GitHubError)) throw error;
    deps.log.warn('sign_in.github_refused', { code: error.code, serverError: error.serverError });
    const unreachable = error.code === 'github_unreachable' || error.code === 'github_error';
    throw new SignInError(
      `github_${error.code}`,
      'GitHub did not accept this sign-in. Start again.',
      unreachable ? 'upstream' : 'input',
      error,
    );
  });
  if (!user.isWhitelisted) return { kind: 'access_pending', login: user.githubLogin, retryPath: attempt.retryPath };

  if (attempt.serviceId && attempt.redirectUri) {
    const code = await createLoginCode(deps.db, {
      serviceId: attempt.serviceId,
      userId: user.id,
      redirectUri: attempt.redirectUri,
      codeChallenge: attempt.codeChallenge,
    });
    const target = new URL(attempt.redirectUri);
    target.searchParams.set('code', code);
    if (attempt.serviceState !== null) target.searchParams.set('state', attempt.serviceState);
    return { kind: 'to_service', location: target.toString() };
  }
  const ttlSeconds = deps.sessionTtlSeconds;
  const session = await createSession(deps.db, { userId: user.id, serviceId: null, ttlSeconds });
  const sessionToken = await signSessionToken(
    { sessionId: session.id, expiresAt: session.expiresAt },
    deps.tokenSigning,
  );
  return { kind: 'signed_in', sessionToken, ttlSeconds };
}
