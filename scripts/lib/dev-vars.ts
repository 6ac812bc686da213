import { existsSync, readFileSync } from 'node:fs';
import { writeSecretFile } from './secret-files.ts';

/**
 * Reads a `.dev.vars` file (KEY=VALUE lines, `#` comments, optional quotes): the local secrets
 * wrangler itself reads, so the operator scripts find the same DATABASE_URL as `wrangler dev`.
 */
export function readDevVars(file = '.dev.vars'): Record<string, string> {
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const rawLine of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!match?.[1]) continue;
    vars[match[1]] = unquote(match[2] ?? '');
  }
  return vars;
}

function unquote(value: string): string {
  const quoted = value.match(/^(['"])(.*)\1$/);
  if (quoted) return quoted[1] === '"' ? (quoted[2] ?? '').replaceAll('\\n', '\n') : (quoted[2] ?? '');
  // An unquoted value ends at a comment that follows whitespace.
  return value.replace(/\s+#.*$/, '');
}

/**
 * Serialises variables for `wrangler dev --env-file`. Values are double-quoted so `#` and spaces
 * survive, single-quoted (taken literally) when they hold a double quote (a JSON setting such as
 * ASSERTION_SIGNING_KEY); a value with both quotes or a line break cannot be written safely and is refused.
 */
export function formatDevVars(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => {
      if (/[\r\n]/.test(value) || (value.includes('"') && value.includes("'"))) {
        throw new Error(`${key} contains both quotes or a line break; set it another way.`);
      }
      return value.includes('"') ? `${key}='${value}'` : `${key}="${value}"`;
    })
    .join('\n');
}

/**
 * Sets one variable in a `.dev.vars` file, keeping every other line and comment: its first line is
 * replaced (later ones dropped), or a line is appended. The file stays 0600.
 */
export function setDevVar(file: string, key: string, value: string): void {
  const assignment = new RegExp(`^\\s*(?:export\\s+)?${key}\\s*=`);
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/) : [];
  if (lines.at(-1) === '') lines.pop();
  const line = formatDevVars({ [key]: value });
  let replaced = false;
  const updated = lines.flatMap((existing) => {
    if (!assignment.test(existing)) return [existing];
    if (replaced) return [];
    replaced = true;
    return [line];
  });
  if (!replaced) updated.push(line);
  writeSecretFile(file, `${updated.join('\n')}\n`);
}
