import * as z from 'zod';
import { admitAtSignIn } from '../admission/admit-at-sign-in.ts';
import { describeRule } from '../admission/rule.ts';
import type { SignInAction } from '../changes/actions.ts';
import type { ChangeOrigin } from '../changes/origin.ts';
import { type ChangeDetails, recordChange } from '../changes/record.ts';
import { constantTimeEqual, utf8 } from '../crypto/encoding.ts';
import { signSessionToken } from '../crypto/session-tokens.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import { createLoginCode } from '../db/login-codes.ts';
import { createSession } from '../db/sessions.ts';
import { type GitHubAppCredentials, GitHubError } from '../github/client.ts';
import { describeError, type Logger } from '../http/logger.ts';
import { openAttempt, type SignInAttempt } from './attempt.ts';
import { completeGitHubSignIn } from './complete-sign-in.ts';
import { successReturn } from './service-return.ts';
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
  /** Where the browser's request came from, as the person concerned (null before GitHub names them). */
  origin: (userId: string | null) => ChangeOrigin;
  /** The gateway's issuer identifier (RFC 9207 `iss`) for the service's return address. */
  issuer: string | null;
}

/** Where a finished sign-in leaves the person. */
export type FinishedSignIn =
  /** Known now, but not (yet) admitted: the access-pending page, with a way to try again. */
  | { kind: 'access_pending'; userId: string; login: string | null; code: 'not_whitelisted' | 'not_a_member' }
  /** Back to the service that sent them, with a login code (and the service's state). */
  | { kind: 'to_service'; location: string }
  /** Signed in to the gateway itself: its session token for the cookie. */
  | { kind: 'signed_in'; sessionToken: string; ttlSeconds: number };

/**
 * Finishes a checked attempt (`checkSignInAnswer`): GitHub's code for the person's tokens and
 * profile (completeGitHubSignIn), then, if they are admitted (whitelist flag, a login rule, an
 * active membership of an org or team rule: admitAtSignIn), a login code for the service that
 * sent them or a session of the gateway's own.
 */
export async function finishSignIn(
  deps: FinishSignInDeps,
  { attempt, answer }: { attempt: SignInAttempt; answer: GitHubAnswer },
): Promise<FinishedSignIn> {
  if (answer.error)
    throw await refused(
      deps,
      attempt,
      new SignInError(
        'github_denied',
        answer.error === 'access_denied'
          ? 'You cancelled the sign-in at GitHub. Start again to sign in.'
          : 'GitHub did not sign you in (you may have cancelled). Start again.',
      ),
    );
  if (!answer.code)
    throw await refused(deps, attempt, new SignInError('invalid_request', 'GitHub sent back no code. Start again.'));
  const code = answer.code;
  const signedIn = await completeGitHubSignIn(
    { db: deps.db, keyring: await deps.keyring(), github: deps.github },
    // Exactly the redirect_uri the authorize step sent, never rebuilt from this request.
    { code, codeVerifier: attempt.verifier, redirectUri: attempt.githubRedirectUri },
  ).catch(async (error: unknown) => {
    if (!(error instanceof GitHubError)) throw error;
    deps.log.warn('sign_in.github_refused', { code: error.code, serverError: error.serverError });
    const unreachable = error.code === 'github_unreachable' || error.code === 'github_error';
    throw await refused(
      deps,
      attempt,
      new SignInError(
        `github_${error.code}`,
        'GitHub did not accept this sign-in. Start again.',
        unreachable ? 'upstream' : 'input',
        error,
      ),
    );
  });
  const { user } = signedIn;
  const admission = await admitAtSignIn({ db: deps.db, github: deps.github }, user, signedIn);
  const outcome = (action: SignInAction, details: ChangeDetails, code?: string) => ({
    action,
    subjectUserId: user.id,
    subjectServiceId: attempt.serviceId,
    ...(code ? { code } : {}),
    details: { login: user.githubLogin, ...details },
  });
  if (admission.kind === 'unanswered') {
    deps.log.warn('sign_in.membership_unanswered', { userId: user.id, failure: admission.failure });
    throw await refused(
      deps,
      attempt,
      new SignInError(
        'membership_unanswered',
        admission.failure === 'members_permission'
          ? "GitHub would not tell the gateway whether you are a member of the organization that admits people. Ask the operator to check the GitHub App's organization permissions (and, if the organization enforces SAML single sign-on, to authorize it there)."
          : 'GitHub did not answer whether you are a member of the organization that admits people. Try again in a minute.',
        'upstream',
      ),
      user.id,
    );
  }
  if (admission.kind === 'refused') {
    // The check that refused: nothing admits them (not_whitelisted), or no membership (not_a_member).
    await recordChange(deps.db, deps.origin(user.id), outcome('sign-in:pending', {}, admission.code));
    return { kind: 'access_pending', userId: user.id, login: user.githubLogin, code: admission.code };
  }
  const admittedBy: ChangeDetails =
    admission.by.kind === 'whitelist'
      ? { admitted_by: 'whitelist' }
      : { admitted_by: 'rule', rule_id: admission.by.rule.id, admits: describeRule(admission.by.rule) };

  const { serviceId, redirectUri } = attempt;
  if (serviceId && redirectUri) {
    // The login code and the record of the admission together: never one without the other.
    const loginCode = await deps.db.transaction(async (tx) => {
      const issued = await createLoginCode(tx, {
        serviceId,
        userId: user.id,
        redirectUri,
        codeChallenge: attempt.codeChallenge,
      });
      await recordChange(tx, deps.origin(user.id), outcome('sign-in:admitted', { to: 'service', ...admittedBy }));
      return issued;
    });
    const location = successReturn({ redirectUri, serviceState: attempt.serviceState, issuer: deps.issuer }, loginCode);
    return { kind: 'to_service', location };
  }
  const ttlSeconds = deps.sessionTtlSeconds;
  const session = await deps.db.transaction(async (tx) => {
    const created = await createSession(tx, { userId: user.id, serviceId: null, ttlSeconds });
    await recordChange(tx, deps.origin(user.id), outcome('sign-in:admitted', { to: 'gateway', ...admittedBy }));
    return created;
  });
  const sessionToken = await signSessionToken(
    { sessionId: session.id, expiresAt: session.expiresAt },
    deps.tokenSigning,
  );
  return { kind: 'signed_in', sessionToken, ttlSeconds };
}

/**
 * Records a refusal of GitHub's answer to this browser's own attempt (its state checked), naming
 * the check, and hands the error back to be thrown. The person is known only once GitHub named
 * them (a membership GitHub did not answer about). A record that cannot be written is logged,
 * never put in the refusal's place.
 */
async function refused(
  deps: FinishSignInDeps,
  attempt: SignInAttempt,
  error: SignInError,
  userId: string | null = null,
): Promise<SignInError> {
  await recordChange(deps.db, deps.origin(userId), {
    action: 'sign-in:refused',
    subjectUserId: userId,
    subjectServiceId: attempt.serviceId,
    code: error.code,
  }).catch((cause: unknown) =>
    deps.log.warn('sign_in.record_failed', { code: error.code, error: describeError(cause) }),
  );
  return error;
}
