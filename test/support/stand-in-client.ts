/** The gateway's GitHub callback as the worker tests reach it (PUBLIC_URL in vitest.config.ts). */
export const TEST_CALLBACK_URL = 'https://gateway.test/auth/github/callback';

/** The GitHub App the tests' stand-in GitHub knows (not a secret: a loopback test double). */
export const STAND_IN_CLIENT = { id: 'Iv1.standin0000000001', secret: 'stand-in-client-secret' };

/**
 * More apps registered at the same stand-in (test/support/stand-in-options.ts), for the tests that
 * need GitHub to behave otherwise. A test points the gateway at one by overriding
 * GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET. (Plain data: the worker tests import this file, and
 * the stand-in's module is Node's.)
 */
export const OTHER_STAND_IN_APPS = {
  /** A secret with every character RFC 6749 §2.3.1's form-urlencoding changes. */
  awkwardSecret: {
    clientId: 'Iv1.standin-awkward-secret',
    clientSecret: 'a+b/c=d%e:f g~h',
    callbackUrls: [TEST_CALLBACK_URL],
  },
  /** A strict, standards-conformant OAuth server: 400 invalid_grant, 401 invalid_client. */
  standardErrors: {
    clientId: 'Iv1.standin-standard-errors',
    clientSecret: 'stand-in-standard-errors-secret',
    callbackUrls: [TEST_CALLBACK_URL],
    errors: 'standard' as const,
  },
  /** A server that keeps refresh tokens valid and answers a refresh without a new one. */
  keepsRefreshTokens: {
    clientId: 'Iv1.standin-keeps-refresh',
    clientSecret: 'stand-in-keeps-refresh-secret',
    callbackUrls: [TEST_CALLBACK_URL],
    rotateRefreshTokens: false,
  },
  /** A GitHub App without the organization "Members" read permission: membership checks answer 403. */
  noMembersPermission: {
    clientId: 'Iv1.standin-no-members-permission',
    clientSecret: 'stand-in-no-members-secret',
    callbackUrls: [TEST_CALLBACK_URL],
    membersRead: false,
  },
};
