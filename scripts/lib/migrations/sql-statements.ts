/**
 * Splits a migration file into statements, so each runs on its own (CREATE INDEX CONCURRENTLY
 * cannot share a query string with anything) and a failure names the statement that failed.
 * Understands what can hide a semicolon: quoted strings ('', E'' with backslashes), quoted
 * identifiers, dollar-quoted bodies ($$ or $tag$), line comments and nested block comments.
 */
export interface SqlStatement {
  /** The statement as written, without the trailing semicolon. */
  text: string;
  /** 1-based line of its first character in the file. */
  line: number;
}

export function splitSqlStatements(source: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = 0;
  let index = 0;
  const push = (end: number) => {
    const offset = skipLeadingCommentsAndSpace(source, start, end);
    if (offset < end) statements.push({ text: source.slice(offset, end).trim(), line: lineAt(source, offset) });
  };
  while (index < source.length) {
    const char = source[index];
    const next = source[index + 1];
    if (char === '-' && next === '-') {
      index = endOfLine(source, index);
    } else if (char === '/' && next === '*') {
      index = endOfBlockComment(source, index);
    } else if (char === "'") {
      const escapes = /[Ee]/.test(source[index - 1] ?? '') && !/\w/.test(source[index - 2] ?? '');
      index = endOfQuoted(source, index, "'", escapes);
    } else if (char === '"') {
      index = endOfQuoted(source, index, '"', false);
    } else if (char === '$') {
      const tag = source.slice(index).match(/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/);
      if (tag && !/\w/.test(source[index - 1] ?? '')) {
        const close = source.indexOf(tag[0], index + tag[0].length);
        index = close === -1 ? source.length : close + tag[0].length;
      } else {
        index += 1;
      }
    } else if (char === ';') {
      push(index);
      index += 1;
      start = index;
    } else {
      index += 1;
    }
  }
  push(source.length);
  return statements;
}

/** The statement with comments removed and whitespace folded: what the data-loss check reads. */
export function stripComments(text: string): string {
  let out = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    const next = text[index + 1];
    if (char === '-' && next === '-') {
      index = endOfLine(text, index);
      out += ' ';
    } else if (char === '/' && next === '*') {
      index = endOfBlockComment(text, index);
      out += ' ';
    } else if (char === "'" || char === '"') {
      const end = endOfQuoted(text, index, char, false);
      out += text.slice(index, end);
      index = end;
    } else {
      out += char;
      index += 1;
    }
  }
  return out.replace(/\s+/g, ' ').trim();
}

function skipLeadingCommentsAndSpace(text: string, from: number, to: number): number {
  let index = from;
  while (index < to) {
    if (/\s/.test(text[index] ?? '')) index += 1;
    else if (text.startsWith('--', index)) index = endOfLine(text, index);
    else if (text.startsWith('/*', index)) index = endOfBlockComment(text, index);
    else break;
  }
  return Math.min(index, to);
}

function endOfLine(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  return newline === -1 ? text.length : newline + 1;
}

function endOfBlockComment(text: string, from: number): number {
  let depth = 0;
  let index = from;
  while (index < text.length) {
    if (text[index] === '/' && text[index + 1] === '*') {
      depth += 1;
      index += 2;
    } else if (text[index] === '*' && text[index + 1] === '/') {
      depth -= 1;
      index += 2;
      if (depth === 0) return index;
    } else {
      index += 1;
    }
  }
  return text.length;
}

function endOfQuoted(text: string, from: number, quote: string, backslashEscapes: boolean): number {
  let index = from + 1;
  while (index < text.length) {
    const char = text[index];
    if (backslashEscapes && char === '\\') {
      index += 2;
    } else if (char === quote) {
      if (text[index + 1] === quote) index += 2;
      else return index + 1;
    } else {
      index += 1;
    }
  }
  return text.length;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset; index += 1) if (text[index] === '\n') line += 1;
  return line;
}
