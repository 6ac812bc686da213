// `gateway <group> <command>`: every operator command (`gateway --help` lists them). The npm
// scripts (`npm run db:migrate`, ...) are aliases of these; bin/gateway.js starts this file.
import { runGateway } from './lib/operator/commands/program.ts';

await runGateway(process.argv.slice(2));
