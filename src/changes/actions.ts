/**
 * What a change record says happened: one vocabulary for every change made through an operator
 * command or the admin API (named like the command, `services:rotate-key`) and every sign-in
 * outcome and sign-out.
 */
export const CHANGE_ACTIONS = [
  'users:whitelist',
  'users:unwhitelist',
  'services:register',
  'services:update',
  'services:rename',
  'services:rotate-key',
  'services:activate',
  'services:deactivate',
  'services:delete',
  /** An events URL set (details: url, previous_url, whether a secret was made; never the secret). */
  'services:events-set',
  /** Events turned off (details: the url, how many undelivered events were given up). */
  'services:events-clear',
  /** A new events secret (details: grace_seconds, force, previous_secret_expires_at). */
  'services:events-rotate-secret',
  /** The cutover's standing access for a `github:token` service (details: how many people, until when). */
  'services:grant-standing-access',
  /** An admission rule made (details: kind, what it names) or removed. */
  'users:allow',
  'users:deny',
  /** The operator console's grant given or taken (details: github_id, login). */
  'users:grant-operator',
  'users:revoke-operator',
  /** A pending sign-up hidden from the console's list until the person signs in again. */
  'users:dismiss-pending',
] as const;

export const SIGN_IN_ACTIONS = [
  /** Let in: a login code for the service that sent them, or a session of the gateway's own. */
  'sign-in:admitted',
  /** Known now, not admitted (code `not_whitelisted` or `not_a_member`): the access-pending page. */
  'sign-in:pending',
  /** GitHub's answer to this attempt refused (the code names the check). */
  'sign-in:refused',
  'sign-out:service',
  'sign-out:here',
  'sign-out:everywhere',
  /** A membership re-check found a person, admitted by an org or team rule, in none now (code: the check). */
  'admission:ended',
] as const;

export type ChangeAction = (typeof CHANGE_ACTIONS)[number];
export type SignInAction = (typeof SIGN_IN_ACTIONS)[number];
export type RecordedAction = ChangeAction | SignInAction;

/** The kinds of entry `gateway audit query --kind` and the admin API's `kind` filter take. */
export const AUDIT_KINDS = ['access', 'change', 'sign-in'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export function kindOfAction(action: RecordedAction): 'change' | 'sign-in' {
  return (SIGN_IN_ACTIONS as readonly string[]).includes(action) ? 'sign-in' : 'change';
}

export function isChangeRecordAction(action: string): action is RecordedAction {
  return (
    (CHANGE_ACTIONS as readonly string[]).includes(action) || (SIGN_IN_ACTIONS as readonly string[]).includes(action)
  );
}
