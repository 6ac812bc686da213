import type { StandInGitHubOptions } from '../../scripts/lib/dev/stand-in-github.ts';
import { OTHER_STAND_IN_APPS, STAND_IN_CLIENT, TEST_CALLBACK_URL } from './stand-in-client.ts';

/** The stand-in GitHub of `npm test` (test/support/global-setup.ts). */
export const STAND_IN_OPTIONS: StandInGitHubOptions = {
  clientId: STAND_IN_CLIENT.id,
  clientSecret: STAND_IN_CLIENT.secret,
  // The worker tests' origin, and loopback (any port, as GitHub allows) for the tests that reach
  // the gateway without PUBLIC_URL.
  callbackUrls: [TEST_CALLBACK_URL, 'http://localhost/auth/github/callback', 'http://127.0.0.1/auth/github/callback'],
  otherApps: Object.values(OTHER_STAND_IN_APPS),
};
