import type { MiddlewareHandler } from 'hono';
import { authenticateService, type ServiceAuthFailure } from '../services/authenticate-service.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';

const MESSAGES: Record<ServiceAuthFailure, { code: string; message: string }> = {
  missing_key: { code: 'missing_key', message: 'Send your service key as `Authorization: Bearer <key>`.' },
  malformed_key: {
    code: 'malformed_key',
    message:
      'That is not a gateway key (gwk_...). A key the old system issued also needs the `X-Gateway-Service` header.',
  },
  // Unknown and wrong keys answer alike: a caller learns nothing about which key ids exist.
  unknown_key: { code: 'invalid_key', message: 'The service key is not valid.' },
  invalid_key: { code: 'invalid_key', message: 'The service key is not valid.' },
  inactive_service: { code: 'inactive_service', message: 'This service is deactivated; ask the gateway operator.' },
};

/** Authenticates the calling service (401 when it cannot) and, if given, requires a scope (403). */
export function requireService(scope?: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = c.req.header('Authorization') ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? null;
    const result = await authenticateService(
      c.var.database(),
      { key: bearer, serviceIdentifier: c.req.header('X-Gateway-Service') ?? null },
      new Date(),
    );
    if (!result.ok) {
      const { code, message } = MESSAGES[result.code];
      throw new ApiError(401, code, message, { 'WWW-Authenticate': 'Bearer realm="gateway"' });
    }
    if (scope && !result.service.scopes.includes(scope)) {
      throw new ApiError(
        403,
        'insufficient_scope',
        `This service lacks the "${scope}" scope; ask the gateway operator.`,
      );
    }
    c.set('service', result.service);
    await next();
  };
}
