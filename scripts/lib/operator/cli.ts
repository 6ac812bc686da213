import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ErrorKind, GatewayError } from '../../../src/errors/gateway-error.ts';
import { escapeControl } from '../../../src/validation/control-characters.ts';
import { GITHUB_ID_PATTERN, GITHUB_LOGIN_PATTERN } from '../../../src/validation/github-identity.ts';
import { decimalInteger } from '../../../src/validation/operator-input.ts';
import { withoutQuery } from './database-cause.ts';

/** The repository root, wherever a script is started from. */
export const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where migrations live; MIGRATIONS_DIR points the commands elsewhere (tests do). */
export function migrationsDir(): string {
  return process.env.MIGRATIONS_DIR ? path.resolve(process.env.MIGRATIONS_DIR) : path.join(rootDir, 'migrations');
}

/** The command was run wrongly (a flag, a missing name): it says how to run it (exit 2). */
export class UsageError extends GatewayError<'usage'> {
  constructor(message: string) {
    super('usage', 'input', message);
  }
}

/**
 * The one mapping from a kind of failure to an operator command's exit code: 2 when the command
 * was run wrongly (usage, a missing setting, input out of bounds), 1 when it was refused or
 * failed. 0 is for done.
 */
export const EXIT_CODE_OF_KIND = {
  input: 2,
  unauthorized: 1,
  forbidden: 1,
  not_found: 1,
  conflict: 1,
  too_large: 1,
  unsupported_media_type: 1,
  rate_limited: 1,
  internal: 1,
  upstream: 1,
  unavailable: 1,
} as const satisfies Record<ErrorKind, 1 | 2>;

/** The exit code a failed command ends with: by the error's kind, 1 for anything unexpected. */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof GatewayError ? EXIT_CODE_OF_KIND[error.kind] : 1;
}

/**
 * A numeric flag's value: plain decimal digits within its bounds, or a usage error that names the
 * flag and what it takes. `Number()` would read "" and " " as 0, "1e-9" as almost 0, "0x18" as 24.
 */
export function numberFlag(
  value: string | undefined,
  flag: { name: string; min: number; max: number; unit: string; usage: string },
): number {
  const parsed = decimalInteger(flag.min, flag.max).safeParse(value ?? '');
  if (parsed.success) return parsed.data;
  const got = value === undefined ? 'nothing' : `"${escapeControl(value)}"`;
  throw new UsageError(
    `--${flag.name} takes a whole number of ${flag.unit} from ${flag.min} to ${flag.max}, in plain decimal digits; got ${got}.\nUsage: ${flag.usage}`,
  );
}

/**
 * A message for the terminal: control characters escaped (a value quoted in it cannot forge a
 * line or an escape sequence), the message's own line breaks kept.
 */
export function terminalMessage(message: string): string {
  return message.split('\n').map(escapeControl).join('\n');
}

/**
 * JSON for the terminal: JSON.stringify already escapes C0 characters inside strings; DEL and C1
 * (U+007F-U+009F, which some terminals act on) are escaped too. Still the same JSON value.
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `LOGIN` or `--github-id ID`: how operator commands name a person. */
export function parsePersonArgument(args: string[], usage: string): { login: string } | { githubId: string } {
  if (args[0] === '--github-id' && args.length === 2 && GITHUB_ID_PATTERN.test(args[1] ?? ''))
    return { githubId: args[1] ?? '' };
  if (args.length === 1 && GITHUB_LOGIN_PATTERN.test(args[0] ?? '')) return { login: args[0] ?? '' };
  throw new UsageError(`Name one person by GitHub login or numeric id.\nUsage: ${usage}`);
}

/**
 * Runs a command's body and turns errors into an exit code (`exitCodeOf`) and a message on
 * stderr. Expected errors (those carrying a `code`: the gateway's, or a system error's) print
 * their message alone; anything else also names its type.
 */
export async function runCommand(body: () => Promise<number | undefined>): Promise<never> {
  try {
    process.exit((await body()) ?? 0);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // An unexplained database failure prints what the driver said, never drizzle's query and parameters.
    const message = withoutQuery(error);
    console.error(
      terminalMessage(
        typeof code === 'string' ? message : `Unexpected ${(error as Error)?.name ?? 'error'}: ${message}`,
      ),
    );
    process.exit(exitCodeOf(error));
  }
}
