import { appendFileSync, chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Local secrets (.dev.vars, the env file wrangler dev reads, the local Postgres password) are files
 * only their owner can read. A file's mode is set only when it is created, so an existing file is
 * narrowed before anything is written to it; and a folder anyone can write to (the system's
 * temporary directory) is refused, because another user could have planted the file or a link.
 */
export class SecretFileError extends Error {
  override name = 'SecretFileError';
}

const OWNER_ONLY = 0o600;

export function writeSecretFile(file: string, text: string): void {
  prepare(file);
  writeFileSync(file, text, { mode: OWNER_ONLY });
  chmodSync(file, OWNER_ONLY);
}

export function appendSecretFile(file: string, text: string): void {
  prepare(file);
  appendFileSync(file, text, { mode: OWNER_ONLY });
  chmodSync(file, OWNER_ONLY);
}

function prepare(file: string): void {
  const folder = path.dirname(path.resolve(file));
  if (!existsSync(folder)) mkdirSync(folder, { recursive: true, mode: 0o700 });
  assertNotWorldWritable(folder, file);
  if (existsSync(file)) chmodSync(file, OWNER_ONLY);
}

function assertNotWorldWritable(folder: string, file: string): void {
  if ((statSync(folder).mode & 0o002) !== 0) {
    throw new SecretFileError(
      `Refusing to write ${path.basename(file)} into ${folder}: anyone on this machine can write to that folder. ` +
        'Choose a folder of your own (for PGDATA_DIR or DEV_VARS_FILE).',
    );
  }
}
