import type { Context } from 'hono';
import { membershipBounds } from '../admission/bounds.ts';
import { decideAdmission } from '../admission/decide.ts';
import { listServiceAccess } from '../db/sessions.ts';
import { signedOutServiceName } from '../db/signed-out-service.ts';
import type { AppEnv } from '../http/context.ts';
import { brandingOf } from '../pages/branding.ts';
import { landingPage } from '../pages/pages.ts';
import { serviceHome } from '../pages/service-home.ts';
import { cookieSession } from '../sign-in/browser-session.ts';

/**
 * `GET /`: the sign-in page; for a person signed in to the gateway, every service that can still
 * act for them (one line each) and the ways to sign out; for one whose cookie names a session but
 * who is no longer admitted, why they are signed out (the refusal verify would give a service).
 * After "Sign out of X" (POST /logout, 303 to `/?signed_out_of=<id>`) it confirms it, once that
 * service is no longer listed.
 */
export async function landing(c: Context<AppEnv>): Promise<Response> {
  const { config } = c.var;
  const branding = brandingOf(config);
  const session = await cookieSession(c);
  if (!session) return c.html(landingPage(branding, { kind: 'anonymous' }));
  const admission = decideAdmission(session.user.admission, membershipBounds(config));
  if (!admission.admitted) {
    const login = session.user.githubLogin ?? 'your GitHub account';
    return c.html(landingPage(branding, { kind: 'refused', login, code: admission.code }));
  }
  const db = c.var.database();
  const access = await listServiceAccess(db, session.user.id, config.STANDING_ACCESS_SECONDS);
  const signedOutId = c.req.query('signed_out_of');
  const stillListed = access.some((service) => service.serviceId === signedOutId);
  const signedOutOf = signedOutId && !stillListed ? await signedOutServiceName(db, session.user.id, signedOutId) : null;
  const services = access.map(({ redirectUris, ...service }) => ({ ...service, homeUrl: serviceHome(redirectUris) }));
  return c.html(landingPage(branding, { kind: 'signed_in', login: session.user.githubLogin, services, signedOutOf }));
}
