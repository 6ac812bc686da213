import { CodedError } from '../../../src/errors/coded-error.ts';

export type MigrationErrorCode =
  | 'unreachable'
  | 'malformed_folder'
  | 'unknown_migration'
  | 'failed_migration_recorded'
  | 'data_loss'
  | 'migration_failed'
  | 'lock_timeout'
  | 'invalid_state'
  | 'usage';

/** Every refusal of the migration engine: a code to branch on and a message that says what to do next. */
export class MigrationError extends CodedError<MigrationErrorCode> {
  override name = 'MigrationError';
}
