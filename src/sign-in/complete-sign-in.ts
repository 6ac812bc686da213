import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import { type SignedInUser, upsertGitHubUser } from '../db/users.ts';
import { exchangeCode, fetchProfile, type GitHubAppCredentials } from '../github/client.ts';
import { storeGitHubTokens } from '../users/stored-github-tokens.ts';

/**
 * The callback's work once the state is checked: the code (with the PKCE verifier and the
 * redirect_uri the authorize step sent) for tokens, the tokens for the profile, then the person's
 * row: found or created by GitHub id, their login recorded, their tokens stored encrypted with
 * the expiry.
 */
export async function completeGitHubSignIn(
  deps: { db: Database; keyring: TokenKeyring; github: GitHubAppCredentials },
  grant: { code: string; codeVerifier: string; redirectUri: string },
): Promise<{ user: SignedInUser; accessToken: string; login: string }> {
  const tokens = await exchangeCode(deps.github, grant);
  const profile = await fetchProfile(deps.github, tokens.accessToken);
  const user = await upsertGitHubUser(deps.db, profile.id, profile.login);
  await storeGitHubTokens(deps.db, deps.keyring, user.id, {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    expiresAt: tokens.accessTokenExpiresAt,
  });
  // The fresh token and the login GitHub gave with it: what the membership check asks with.
  return { user, accessToken: tokens.accessToken, login: profile.login };
}
