import { type Unstable_DevWorker, unstable_dev } from 'wrangler';

export interface CipherFigures {
  encryptMicroseconds: number;
  decryptMicroseconds: number;
  encryptPerSecond: number;
  decryptPerSecond: number;
}

const OPERATIONS = 5_000;
const ROUNDS = 5;

/**
 * Cost of one token encryption and decryption inside workerd: the time of a request doing N
 * operations minus one doing none, divided by N; the best of several rounds.
 */
export async function measureTokenCipher(): Promise<CipherFigures> {
  const worker: Unstable_DevWorker = await unstable_dev('bench/workers/token-cipher.ts', {
    config: 'bench/workers/token-cipher.toml',
    ip: '127.0.0.1',
    logLevel: 'error',
    experimental: { disableExperimentalWarning: true },
  });
  try {
    const time = async (op: string, count: number) => {
      const started = performance.now();
      const response = await worker.fetch(`http://bench/${op}?n=${count}`);
      await response.json();
      return performance.now() - started;
    };
    const perOperation = async (op: string) => {
      await time(op, 200); // warm-up: JIT and key import
      let best = Number.POSITIVE_INFINITY;
      for (let round = 0; round < ROUNDS; round += 1) {
        const empty = await time(op, 0);
        const full = await time(op, OPERATIONS);
        best = Math.min(best, (full - empty) / OPERATIONS);
      }
      return best * 1000;
    };
    const encrypt = await perOperation('encrypt');
    const decrypt = await perOperation('decrypt');
    return {
      encryptMicroseconds: Math.round(encrypt * 10) / 10,
      decryptMicroseconds: Math.round(decrypt * 10) / 10,
      encryptPerSecond: Math.round(1e6 / encrypt),
      decryptPerSecond: Math.round(1e6 / decrypt),
    };
  } finally {
    await worker.stop();
  }
}
