import { type ErrorKind, GatewayError } from '../../../src/errors/gateway-error.ts';

export type MigrationErrorCode =
  | 'malformed_folder'
  | 'unknown_migration'
  | 'failed_migration_recorded'
  | 'data_loss'
  | 'migration_failed'
  | 'lock_timeout'
  | 'invalid_state'
  | 'usage';

/** Every refusal of the migration engine: a code to branch on and a message that says what to do next. */
export class MigrationError extends GatewayError<MigrationErrorCode> {
  constructor(code: MigrationErrorCode, message: string) {
    super(code, KIND_OF_CODE[code], message);
  }
}

/** How each refusal is answered: only a mistyped command is a usage error (exit 2). */
const KIND_OF_CODE: Record<MigrationErrorCode, ErrorKind> = {
  malformed_folder: 'conflict',
  unknown_migration: 'not_found',
  failed_migration_recorded: 'conflict',
  data_loss: 'conflict',
  migration_failed: 'conflict',
  lock_timeout: 'unavailable',
  invalid_state: 'conflict',
  usage: 'input',
};
