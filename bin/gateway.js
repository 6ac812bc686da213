#!/usr/bin/env node
// The `gateway` executable. The commands are TypeScript run by Node's type stripping (Node >= 22.18);
// a global install may be started by an older Node, so this plain-JS launcher runs
// scripts/gateway.ts with the project's own Node (the `node` dev dependency) when there is one,
// else with this Node if it strips types itself, and otherwise says what to install.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'scripts', 'gateway.ts');
const projectNode = path.join(root, 'node_modules', 'node', 'bin', 'node');
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const stripsTypes = major > 23 || (major === 22 && minor >= 18) || (major === 23 && minor >= 6);
const node = existsSync(projectNode) ? projectNode : stripsTypes ? process.execPath : undefined;
if (!node) {
  console.error(
    `gateway needs Node 22.18 or newer (this is ${process.version}); run \`npm install\` in ${root} to get the project's Node.`,
  );
  process.exit(1);
}
const child = spawn(node, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('error', (error) => {
  console.error(`gateway could not start ${node}: ${error.message}`);
  process.exit(1);
});
// Signals sent to this launcher alone (a process manager's TERM) reach the command; Ctrl-C reaches
// both through the terminal, and the launcher waits for the command to finish stopping.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (signal !== 'SIGINT') child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  // A command ended by a signal ends this launcher the same way.
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
