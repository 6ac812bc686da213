// npm run migrate:encrypt-tokens [-- --dry-run] [--batch-size N] — encrypt the plaintext tokens the old system stored.
import { runCommand } from './lib/operator/cli.ts';
import { runReencryptionCommand } from './lib/operator/token-commands.ts';

await runCommand(() =>
  runReencryptionCommand('encrypt-plaintext', 'npm run migrate:encrypt-tokens [-- --dry-run] [--batch-size N]'),
);
