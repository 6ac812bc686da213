import { appendFileSync, chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../../src/errors/gateway-error.ts';

/**
 * Local secrets (.dev.vars, the env file wrangler dev reads, the local Postgres password) are files
 * only their owner can read. A file's mode is set only when it is created, so an existing file is
 * narrowed before anything is written to it; and a folder anyone can write to (the system's
 * temporary directory) is refused, because another user could have planted the file or a link.
 */
export class SecretFileError extends GatewayError<'unsafe_secret_file'> {
  constructor(message: string) {
    super('unsafe_secret_file', 'conflict', message);
  }
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

/** Checks where a secret file goes (before anything is started) and narrows it if it exists. */
export function protectSecretFile(file: string): void {
  assertSecretFolder(file);
  if (existsSync(file)) chmodSync(file, OWNER_ONLY);
}

function prepare(file: string): void {
  const folder = path.dirname(path.resolve(file));
  // The folder itself keeps the usual mode: as root, Postgres (another user) walks through .data.
  if (!existsSync(folder)) mkdirSync(folder, { recursive: true });
  protectSecretFile(file);
}

/** Refuses a folder anyone can write to; one still to be made is checked once it is (in prepare). */
export function assertSecretFolder(file: string): void {
  const folder = path.dirname(path.resolve(file));
  if (existsSync(folder)) assertNotWorldWritable(folder, file);
}

function assertNotWorldWritable(folder: string, file: string): void {
  if ((statSync(folder).mode & 0o002) !== 0) {
    throw new SecretFileError(
      `Refusing to write ${path.basename(file)} into ${folder}: anyone on this machine can write to that folder. ` +
        'Use a folder only you can write to.',
    );
  }
}
