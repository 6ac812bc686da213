import type { Command } from 'commander';
import { generateMasterKey } from '../../../../src/crypto/token-cipher.ts';
import { runCommand } from '../cli.ts';
import { type ReencryptionFlags, runReencryptionCommand } from '../token-commands.ts';
import { usageLine } from './shared.ts';

/** `gateway tokens ...`: the key that seals people's GitHub tokens (docs/security.md). */
export function addTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description("people's GitHub tokens: the encryption key, re-encryption");

  tokens
    .command('generate-key')
    .description('print a new random TOKEN_ENCRYPTION_KEY (base64 of 32 bytes)')
    .action(() =>
      runCommand(async () => {
        console.log(generateMasterKey());
        return 0;
      }),
    );

  const reencryption = [
    {
      name: 'encrypt',
      mode: 'encrypt-plaintext',
      description:
        'encrypt the plaintext GitHub tokens the old system stored; says when TOKEN_PLAINTEXT=refuse can be set',
    },
    { name: 'rotate', mode: 'rotate', description: 're-encrypt every token under the current TOKEN_ENCRYPTION_KEY' },
  ] as const;
  for (const { name, mode, description } of reencryption) {
    tokens
      .command(name)
      .description(description)
      .option('--dry-run', 'count what it would change, change nothing', false)
      .option('--batch-size <rows>', 'rows per transaction, 1-5000', '500')
      .option('--verbose', 'also print a line per batch (rows read, rows written)', false)
      .action((flags: ReencryptionFlags, command: Command) =>
        runCommand(() => runReencryptionCommand(mode, flags, usageLine(command))),
      );
  }
}
