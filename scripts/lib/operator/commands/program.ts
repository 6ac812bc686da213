import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { rootDir } from '../cli.ts';
import { addAuditCommands } from './audit.ts';
import { addDatabaseCommands } from './db.ts';
import { addServiceCommands } from './services.ts';
import { addTokenCommands } from './tokens.ts';
import { addUserCommands } from './users.ts';

const { version } = JSON.parse(readFileSync(path.join(rootDir, 'package.json'), 'utf8')) as { version: string };

/**
 * The `gateway` command: every group and command declared once, so the flags it parses and the
 * help it prints come from the same declarations.
 */
export function gatewayProgram(): Command {
  const program = new Command('gateway')
    .description('Operate the edge GitHub gateway: migrations, the whitelist, services and their keys, tokens, audit')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError()
    // Settings below are copied to every command made from here on: the same help and errors everywhere.
    .exitOverride();
  addDatabaseCommands(program);
  addUserCommands(program);
  addServiceCommands(program);
  addTokenCommands(program);
  addAuditCommands(program);
  program
    .command('dev')
    .description('the whole gateway locally: Postgres, the bridge, wrangler dev on http://127.0.0.1:8787')
    .action(async () => {
      // The dev stack's own script, run in this process: its signal handling stays what it is.
      await import('../../../dev.ts');
    });
  return program;
}

/**
 * Runs `gateway` with these arguments. Commander's own refusals (an unknown command or flag, a
 * missing value) have already printed the error and the usage: they exit 2, help and version 0.
 */
export async function runGateway(args: string[]): Promise<void> {
  try {
    await gatewayProgram().parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
    throw error;
  }
}
