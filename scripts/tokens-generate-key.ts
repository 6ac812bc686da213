// npm run tokens:generate-key — print a new random master key (base64 of 32 bytes) for TOKEN_ENCRYPTION_KEY.
import { generateMasterKey } from '../src/crypto/token-cipher.ts';
import { parseFlags, runCommand } from './lib/operator/cli.ts';

await runCommand(async () => {
  parseFlags({}, 'npm run tokens:generate-key');
  console.log(generateMasterKey());
  return 0;
});
