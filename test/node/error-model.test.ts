import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CHECKOUT, readSourceFiles } from '../support/node/source-files.ts';

// One error model (docs/decisions.md): every expected failure is a GatewayError (src/errors/) with
// a code and a kind; the HTTP error handler maps kinds to statuses, the operator commands map
// kinds to exit codes, and the pages render their own errors. These scans keep it that way.

const files = readSourceFiles('src', 'scripts');

describe('one error model', () => {
  it('every error class in src/ and scripts/ extends GatewayError (or another that does); only GatewayError extends Error', () => {
    const declared = files.flatMap(({ file, text }) =>
      [...text.matchAll(/class (\w+)(?:<[^>]*>)? extends (\w+)/g)].map((match) => ({
        file,
        name: match[1] ?? '',
        base: match[2] ?? '',
      })),
    );
    const errorClasses = declared.filter(({ name, base }) => /Error$|Failed$/.test(name) || base.endsWith('Error'));
    const names = new Set(errorClasses.map(({ name }) => name));
    const strays = errorClasses.filter(({ name, base }) =>
      name === 'GatewayError' ? base !== 'Error' : base !== 'GatewayError' && !names.has(base),
    );
    expect(strays).toEqual([]);
    expect(errorClasses.filter(({ name }) => name === 'GatewayError').map(({ file }) => file)).toEqual([
      'src/errors/gateway-error.ts',
    ]);
  });

  it('no route translates a domain error by hand: nothing under src/routes/ catches an error class to rethrow another', () => {
    const translations = files
      .filter(({ file }) => file.startsWith('src/routes/'))
      .filter(({ text }) => /instanceof \w+Error\)[^\n]*\n?[^\n]*throw new/.test(text))
      .map(({ file }) => file);
    expect(translations).toEqual([]);
  });

  it('the JSON error handler knows nothing of pages: src/http/error-handler.ts imports nothing from src/pages/ or src/routes/', () => {
    const handler = files.find(({ file }) => file === 'src/http/error-handler.ts')?.text ?? '';
    expect(handler.match(/from '\.\.\/(pages|routes)\/[^']+'/g) ?? []).toEqual([]);
  });

  it('an operator command exits 2 for an input error of any code, 1 for a refusal or an unexpected error', () => {
    // A command run as a process, throwing what a module would: the exit code follows the kind,
    // not a list of codes (an input error with a code no list names still exits 2).
    const exitOf = (thrown: string) =>
      spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { runCommand } = await import('./scripts/lib/operator/cli.ts');
           const { GatewayError } = await import('./src/errors/gateway-error.ts');
           await runCommand(async () => { throw ${thrown}; });`,
        ],
        { cwd: CHECKOUT, encoding: 'utf8' },
      );
    const input = exitOf("new GatewayError('some_new_input_code', 'input', 'Give a name.')");
    expect([input.status, input.stderr.trim()]).toEqual([2, 'Give a name.']);
    expect(exitOf("new GatewayError('some_refusal', 'conflict', 'Refused.')").status).toBe(1);
    const bug = exitOf("new TypeError('boom')");
    expect([bug.status, bug.stderr.trim()]).toEqual([1, 'Unexpected TypeError: boom']);
  });
});
