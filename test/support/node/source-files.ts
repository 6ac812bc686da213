import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The checkout these tests run in. */
export const CHECKOUT = path.resolve(import.meta.dirname, '../../..');

/** Every TypeScript file below the given folders of the checkout, with its text, for tests that scan the code. */
export function readSourceFiles(...folders: string[]): { file: string; text: string }[] {
  return folders.flatMap((folder) =>
    readdirSync(path.join(CHECKOUT, folder), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => {
        const file = path.relative(CHECKOUT, path.join(entry.parentPath, entry.name));
        return { file, text: readFileSync(path.join(CHECKOUT, file), 'utf8') };
      }),
  );
}
