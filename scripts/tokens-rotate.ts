// npm run tokens:rotate [-- --dry-run] [--batch-size N] — re-encrypt every token under the current key.
import { runCommand } from './lib/cli.ts';
import { runReencryptionCommand } from './lib/token-commands.ts';

await runCommand(() => runReencryptionCommand('rotate', 'npm run tokens:rotate [-- --dry-run] [--batch-size N]'));
