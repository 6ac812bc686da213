import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MigrationError } from './errors.ts';

/** `YYYYMMDDHHMMSS_name`, where the name part may be empty (Prisma's `20251212003212_`). */
export const MIGRATION_FOLDER = /^(\d{14})_([a-z0-9_]*)$/;

export interface MigrationFile {
  name: string;
  file: string;
  sql: string;
  /** SHA-256 of the file's bytes, hex: the checksum Prisma records in `_prisma_migrations`. */
  checksum: string;
  /** False when the file says `-- migrate:no-transaction` (CREATE INDEX CONCURRENTLY and the like). */
  transactional: boolean;
  /** The reason given by `-- migrate:accept-data-loss <reason>`, if the file accepts losing data. */
  dataLossAccepted: string | null;
}

export const NO_TRANSACTION_MARKER = '-- migrate:no-transaction';
export const ACCEPT_DATA_LOSS_MARKER = '-- migrate:accept-data-loss';

/** Every migration folder under `directory`, oldest first. Files beside the folders are ignored. */
export function readMigrations(directory: string): MigrationFile[] {
  if (!existsSync(directory)) {
    throw new MigrationError('usage', `No migrations folder at ${directory}.`);
  }
  const migrations: MigrationFile[] = [];
  for (const entry of readdirSync(directory).sort()) {
    const folder = path.join(directory, entry);
    if (!statSync(folder).isDirectory()) continue;
    if (!MIGRATION_FOLDER.test(entry) || !isRealTimestamp(entry.slice(0, 14))) {
      throw new MigrationError(
        'malformed_folder',
        `migrations/${entry} is not a migration folder name. Names are YYYYMMDDHHMMSS_name (a real UTC date and time, ` +
          'then lowercase letters, digits and underscores), e.g. 20260101120000_add_logins. Rename or remove it.',
      );
    }
    const file = path.join(folder, 'migration.sql');
    if (!existsSync(file)) {
      throw new MigrationError(
        'malformed_folder',
        `migrations/${entry} has no migration.sql. Add it or remove the folder.`,
      );
    }
    migrations.push(parseMigration(entry, file, readFileSync(file)));
  }
  return migrations;
}

export function parseMigration(name: string, file: string, bytes: Buffer): MigrationFile {
  const sql = bytes.toString('utf8');
  const lines = sql.split(/\r?\n/).map((line) => line.trim());
  const acceptLine = lines.find((line) => line.startsWith(ACCEPT_DATA_LOSS_MARKER));
  let dataLossAccepted: string | null = null;
  if (acceptLine !== undefined) {
    dataLossAccepted = acceptLine.slice(ACCEPT_DATA_LOSS_MARKER.length).trim();
    if (dataLossAccepted === '') {
      throw new MigrationError(
        'malformed_folder',
        `${name}: "${ACCEPT_DATA_LOSS_MARKER}" needs a reason after it, e.g. "${ACCEPT_DATA_LOSS_MARKER} column unused since v1.4".`,
      );
    }
  }
  return {
    name,
    file,
    sql,
    checksum: createHash('sha256').update(bytes).digest('hex'),
    transactional: !lines.includes(NO_TRANSACTION_MARKER),
    dataLossAccepted,
  };
}

/**
 * Whether a ledger checksum is this file's, by Prisma's rule (prisma-engines, schema-connector
 * `checksum::script_matches_checksum`): SHA-256 of the file as it is, or with its CRLF line endings
 * made LF, or its LF made CRLF (git may have converted either way); and, for a recorded checksum that
 * is not 64 characters, the unpadded hex an old Prisma wrote (each byte without its leading zero).
 */
export function checksumMatches(file: MigrationFile, recorded: string): boolean {
  const candidates = [
    file.checksum,
    sha256(file.sql.replaceAll('\r\n', '\n')),
    sha256(file.sql.replaceAll('\n', '\r\n')),
  ];
  const unpadded = recorded !== '' && recorded.length !== SHA256_HEX_LENGTH;
  return candidates.some((hex) => (unpadded ? withoutLeadingZeros(hex) : hex) === recorded);
}

const SHA256_HEX_LENGTH = 64;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Prisma's `format_checksum_old`: each byte as hex without zero padding (prisma-engines#1887). */
function withoutLeadingZeros(hex: string): string {
  return (hex.match(/../g) ?? []).map((pair) => pair.replace(/^0/, '')).join('');
}

function isRealTimestamp(stamp: string): boolean {
  const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(stamp.slice(at, at + (i === 0 ? 4 : 2))),
  ) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}

/** A folder name for a new migration made now, later than every existing one. */
export function newMigrationName(label: string, existing: string[], now = new Date()): string {
  const slug = label
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug === '') {
    throw new MigrationError(
      'usage',
      `"${label}" has no letters or digits to name a migration with; try --name add_logins.`,
    );
  }
  const latest = existing
    .map((name) => name.slice(0, 14))
    .sort()
    .at(-1);
  const stamp = formatStamp(now.getTime());
  // A clock behind the newest migration (or two made in one second) still sorts after it.
  return `${latest !== undefined && stamp <= latest ? formatStamp(parseStamp(latest) + 1000) : stamp}_${slug}`;
}

function parseStamp(stamp: string): number {
  const part = (from: number, length: number) => Number(stamp.slice(from, from + length));
  return Date.UTC(part(0, 4), part(4, 2) - 1, part(6, 2), part(8, 2), part(10, 2), part(12, 2));
}

function formatStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
