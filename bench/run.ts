// npm run bench — measurements, not tests: written to bench/results.json and printed.
// The load scenarios of the verify API arrive with it; for now the token cipher inside workerd.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { measureTokenCipher } from './token-cipher.ts';

const tokenCipher = await measureTokenCipher();
const results = {
  date: new Date().toISOString(),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
  tokenCipher,
};
writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
console.log(`token encrypt: ${tokenCipher.encryptMicroseconds} µs (${tokenCipher.encryptPerSecond}/s) inside workerd`);
console.log(`token decrypt: ${tokenCipher.decryptMicroseconds} µs (${tokenCipher.decryptPerSecond}/s) inside workerd`);
console.log('written to bench/results.json');
