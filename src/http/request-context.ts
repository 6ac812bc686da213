import type { MiddlewareHandler } from 'hono';
import { readConfig } from '../config.ts';
import { loadSessionKeys } from '../crypto/session-keys.ts';
import { loadTokenKeyring } from '../crypto/token-cipher.ts';
import { type DatabaseHandle, localBridgeOf, openDatabase } from '../db/client.ts';
import { primaryReads, replicaReads } from '../db/lookup-reads.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { withPlaintextPolicy } from '../users/github-tokens.ts';
import type { AppEnv } from './context.ts';
import { createLogger, describeError } from './logger.ts';

/**
 * Builds the per-request services (configuration, logger, database) and puts them on the context.
 * A malformed configuration is logged with what is wrong and answered with a generic 500: the
 * client learns nothing about the deployment.
 */
export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = c.get('requestId');
    const result = readConfig(c.env);
    if (!result.ok) {
      createLogger({ requestId }).error('config.invalid', {
        problems: result.problems,
        hint: 'Set the missing or malformed bindings (wrangler secret put NAME, or .dev.vars locally).',
      });
      throw new GatewayError('internal_error', 'internal', 'The server could not handle this request.');
    }
    const { config } = result;
    c.set('config', config);
    c.set('log', createLogger({ requestId }, config.LOG_LEVEL));

    c.set('tokenKeyring', () =>
      loadTokenKeyring(config.TOKEN_ENCRYPTION_KEY, config.TOKEN_ENCRYPTION_PREVIOUS_KEYS).then((keyring) =>
        withPlaintextPolicy(keyring, config.TOKEN_PLAINTEXT),
      ),
    );
    c.set('sessionKeys', () => loadSessionKeys(config.SESSION_SECRET, config.SESSION_SECRET_PREVIOUS));

    c.set('audit', {});
    const pending: Promise<unknown>[] = [];
    c.set('background', (work) => {
      pending.push(
        work.catch((error: unknown) => c.get('log').error('background.failed', { error: describeError(error) })),
      );
    });

    let handle: DatabaseHandle | undefined;
    const database = () => {
      handle ??= openDatabase({ url: config.DATABASE_URL, wsProxy: localBridgeOf(config) });
      return handle.db;
    };
    c.set('database', database);
    let replicaHandle: DatabaseHandle | undefined;
    const replicaUrl = config.DATABASE_REPLICA_URL;
    c.set(
      'staleReads',
      replicaUrl
        ? replicaReads({
            replicaUrl,
            replica: () => {
              replicaHandle ??= openDatabase({ url: replicaUrl, wsProxy: localBridgeOf(config) });
              return replicaHandle.db;
            },
            primary: database,
            onReplicaSkipped: (reason, detail) =>
              c.get('log').warn('database.replica_skipped', {
                reason,
                ...(reason === 'lagging' ? (detail as object) : { error: describeError(detail) }),
              }),
          })
        : primaryReads(database),
    );
    try {
      await next();
    } finally {
      // Background work may still need the pools: end them once that work has settled.
      c.executionCtx.waitUntil(
        Promise.allSettled(pending).then(() => Promise.all([handle?.end(), replicaHandle?.end()])),
      );
    }
  };
}
