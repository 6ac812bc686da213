import type { Config } from '../config.ts';
import { loadTokenKeyring } from '../crypto/token-cipher.ts';
import { localBridgeOf, openDatabase } from '../db/client.ts';
import type { Logger } from '../http/logger.ts';
import type { DeliveryDeps } from './deliver.ts';

/**
 * Runs `work` with what a delivery outside a request needs (the queue consumer, the sweep): its
 * own database handle, ended when the work settles, and the token keyring that opens the events
 * secrets, loaded only when an attempt asks for it.
 */
export async function withDeliveryDeps<T>(
  settings: Config,
  log: Logger,
  work: (deps: DeliveryDeps) => Promise<T>,
): Promise<T> {
  const handle = openDatabase({ url: settings.DATABASE_URL, wsProxy: localBridgeOf(settings) });
  try {
    return await work({
      db: handle.db,
      keyring: () => loadTokenKeyring(settings.TOKEN_ENCRYPTION_KEY, settings.TOKEN_ENCRYPTION_PREVIOUS_KEYS),
      log,
    });
  } finally {
    await handle.end();
  }
}
