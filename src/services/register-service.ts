import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import { generateServiceKey } from '../crypto/service-keys.ts';
import type { Database } from '../db/client.ts';
import { findServiceIdentifierState, insertService } from '../db/services.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { escapeControl, hasControlCharacter } from '../validation/control-characters.ts';
import { isHttpsOrLoopbackHttp } from '../validation/loopback.ts';
import { CONTROL_CHARACTER_RULE, displayName } from '../validation/operator-input.ts';
import { firstIssueMessage } from '../validation/zod-issues.ts';

/** What a service may be allowed to do (docs/api.md: one scope per `/v1` endpoint, `admin` for the admin API). */
export const KNOWN_SCOPES = ['users:verify', 'github:token', 'admin'] as const;

/** A service's registration or change that cannot be accepted as given (HTTP 400, exit 2). */
export class ServiceInputError extends GatewayError<'invalid_service'> {
  constructor(message: string) {
    super('invalid_service', 'input', message);
  }
}

export interface NewServiceInput {
  identifier: string;
  displayName: string;
  scopes: string[];
  redirectUris: string[];
}

/** Registers a service and returns its key: the only time the full key exists outside the caller. */
export async function registerService(
  db: Database,
  input: NewServiceInput,
  origin: ChangeOrigin,
): Promise<{ id: string; identifier: string; key: string }> {
  validateServiceInput(input);
  const { key, keyId, hash } = await generateServiceKey();
  const service = await db
    .transaction(async (tx) => {
      const inserted = await insertService(tx, {
        serviceIdentifier: input.identifier,
        displayName: input.displayName,
        apiKeyHash: hash,
        keyId,
        allowedScopes: input.scopes,
        redirectUris: input.redirectUris,
      });
      await recordChange(tx, origin, {
        action: 'services:register',
        subjectServiceId: inserted.id,
        details: { name: input.displayName, scopes: input.scopes, redirect_uris: input.redirectUris },
      });
      return inserted;
    })
    .catch(async (error: unknown) => {
      if (!isUniqueViolation(error)) throw error;
      const quoted = `"${escapeControl(input.identifier)}"`;
      throw new ServiceInputError(
        (await findServiceIdentifierState(db, input.identifier)) === 'deleted'
          ? `A service ${quoted} was deleted; its id stays reserved so its audit rows name one service. Pick another id.`
          : `A service ${quoted} already exists; pick another id.`,
      );
    });
  return { id: service.id, identifier: service.serviceIdentifier, key };
}

function isUniqueViolation(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string }; code?: string }) ?? {};
  return cause.code === '23505' || cause.cause?.code === '23505';
}

export function validateServiceInput(input: NewServiceInput): void {
  if (!/^[a-z0-9][a-z0-9._-]{0,99}$/.test(input.identifier)) {
    throw new ServiceInputError(
      'The service id is 1-100 lowercase letters, digits, dots, dashes or underscores, e.g. "billing".',
    );
  }
  const name = displayName.safeParse(input.displayName);
  if (!name.success) {
    throw new ServiceInputError(`The display name ${firstIssueMessage(name.error)}.`);
  }
  validateScopes(input.scopes);
  for (const uri of input.redirectUris) validateRedirectUri(uri);
}

export function validateScopes(scopes: string[]): void {
  for (const scope of scopes) {
    if (!(KNOWN_SCOPES as readonly string[]).includes(scope)) {
      throw new ServiceInputError(`Unknown scope "${escapeControl(scope)}"; scopes are ${KNOWN_SCOPES.join(', ')}.`);
    }
  }
}

/**
 * A registered return address: absolute https (http only on localhost for development), no user
 * info, no fragment, and written exactly as the service will send it (sign-in compares exactly).
 */
export function validateRedirectUri(uri: string): void {
  // Messages quote the value escaped: a command prints them, and the URL parser drops some
  // control characters silently, so they are refused before it sees them.
  const quoted = `"${escapeControl(uri)}"`;
  if (hasControlCharacter(uri)) throw new ServiceInputError(`The redirect URI ${quoted} ${CONTROL_CHARACTER_RULE}.`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ServiceInputError(`${quoted} is not an absolute URL.`);
  }
  if (!isHttpsOrLoopbackHttp(url)) {
    throw new ServiceInputError(`${quoted} must use https (http is allowed on localhost only).`);
  }
  if (url.username || url.password) throw new ServiceInputError(`${quoted} must not contain a user name or password.`);
  if (url.hash || uri.includes('#')) throw new ServiceInputError(`${quoted} must not have a fragment.`);
  if (url.toString() !== uri) {
    throw new ServiceInputError(
      `Write ${quoted} in its normal form, exactly as the service sends it: "${url.toString()}".`,
    );
  }
}
