// npm run tokens:rotate [-- --dry-run] [--batch-size N] — re-encrypt every token under the current key.
import { runCommand } from './lib/operator/cli.ts';
import { runReencryptionCommand } from './lib/operator/token-commands.ts';

await runCommand(() => runReencryptionCommand('rotate', 'npm run tokens:rotate [-- --dry-run] [--batch-size N]'));
