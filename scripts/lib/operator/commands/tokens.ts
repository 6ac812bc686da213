import type { Command } from 'commander';
import { generateAssertionKey } from '../../../../src/crypto/assertion-keys.ts';
import { generateMasterKey } from '../../../../src/crypto/token-cipher.ts';
import { runCommand } from '../cli.ts';
import {
  type DetectLegacyFlags,
  type ReencryptionFlags,
  runDetectLegacyCommand,
  runReencryptionCommand,
} from '../token-commands.ts';
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

  tokens
    .command('generate-assertion-key')
    .description(
      'print a new Ed25519 key for assertions: line 1 the private JWK for ASSERTION_SIGNING_KEY, ' +
        'line 2 its public JWK for ASSERTION_PREVIOUS_KEYS once it is rotated out',
    )
    .action(() =>
      runCommand(async () => {
        const { privateJwk, publicJwk } = await generateAssertionKey();
        // The two JSON lines on stdout (`| head -1 | npx wrangler secret put ASSERTION_SIGNING_KEY`),
        // what they are for on stderr.
        console.log(JSON.stringify(privateJwk));
        console.log(JSON.stringify(publicJwk));
        console.error(
          'Line 1 is the private key: npx wrangler secret put ASSERTION_SIGNING_KEY (paste it; never commit it).\n' +
            'Line 2 is its public key (not secret): keep it for ASSERTION_PREVIOUS_KEYS when you rotate this key out (docs/deploy.md).',
        );
        return 0;
      }),
    );

  const reencryption = [
    {
      name: 'encrypt',
      mode: 'encrypt-plaintext',
      description:
        'encrypt the plaintext GitHub tokens the old system stored (and, with LEGACY_TOKEN_KEY, carry over its own ' +
        'v1.2 encrypted ones); says when TOKEN_PLAINTEXT=refuse can be set',
    },
    { name: 'rotate', mode: 'rotate', description: 're-encrypt every token under the current TOKEN_ENCRYPTION_KEY' },
  ] as const;
  for (const { name, mode, description } of reencryption) {
    const command = tokens
      .command(name)
      .description(description)
      .option('--dry-run', 'count what it would change, change nothing', false)
      .option('--batch-size <rows>', 'rows per transaction, 1-5000', '500')
      .option('--verbose', 'also print a line per batch, and each token left as it was (user id and column)', false);
    if (mode === 'encrypt-plaintext')
      command.option(
        '--legacy-scheme <id>',
        "with LEGACY_TOKEN_KEY: the old system's scheme as detect-legacy prints it, instead of detecting it",
      );
    command.action((flags: ReencryptionFlags, self: Command) =>
      runCommand(() => runReencryptionCommand(mode, flags, usageLine(self))),
    );
  }

  tokens
    .command('detect-legacy')
    .description(
      'with LEGACY_TOKEN_KEY: find the scheme the old system encrypted its v1.2 tokens in, from a sample (writes nothing)',
    )
    .option('--sample <values>', 'how many of the values no configured key opens to try, 1-1000', '100')
    .option('--json', 'print JSON: scheme, sampled, opened, not_opened (user_id, column), other_schemes', false)
    .action((flags: DetectLegacyFlags, command: Command) =>
      runCommand(() => runDetectLegacyCommand(flags, usageLine(command))),
    );
}
