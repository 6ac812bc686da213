import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm ci` refuses a lockfile in which a package names a dependency, optional ones included, that
 * has no entry. `npm install` writes such a lockfile without a word when the registry lacks one
 * platform's build of a package (squawk-cli 2.66.0 had only linux-x64), so this catches it in
 * `npm test` on the machine that upgraded, not only later in CI.
 */
interface LockedPackage {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const lockfile = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** The folders Node's resolution looks in from package `key`, nearest first ('' is the root). */
function resolutionFolders(key: string): string[] {
  if (key === '') return [''];
  const nested = key.replace(/^node_modules\//, '').split('/node_modules/');
  const folders = nested.map(
    (_, index) => `node_modules/${nested.slice(0, nested.length - index).join('/node_modules/')}`,
  );
  return [...folders, ''];
}

function isLocked(from: string, name: string): boolean {
  return resolutionFolders(from).some(
    (folder) => lockfile.packages[`${folder === '' ? '' : `${folder}/`}node_modules/${name}`] !== undefined,
  );
}

describe('package-lock.json', () => {
  it('has an entry for every dependency each locked package names, optional platform builds included', () => {
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(lockfile.packages)) {
      const names = Object.keys({
        ...entry.dependencies,
        ...entry.optionalDependencies,
        ...(key === '' ? entry.devDependencies : {}),
      });
      for (const name of names) if (!isLocked(key, name)) missing.push(`${key || '(root)'} -> ${name}`);
    }
    expect(missing).toEqual([]);
  });
});
