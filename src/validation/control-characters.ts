/**
 * Characters a reader cannot see for what they are: C0 and C1 control characters (U+0000-U+001F,
 * U+007F-U+009F: a line break, an escape sequence, a title change, and NUL, which Postgres
 * refuses), invisible format characters (Unicode Cf: bidirectional overrides such as U+202E,
 * zero-width spaces, the byte-order mark) and the line and paragraph separators U+2028/U+2029.
 * A name with one could pose as another or as nothing. Names an operator gives refuse them; text
 * a command prints shows them escaped.
 */
export const CONTROL_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

const CONTROL_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/**
 * The text with every such character written out visibly (`\n`, `\x1b`, `\u009b`, `\u202e`), so a
 * value from the database or a flag prints as one line of plain characters and cannot move the
 * cursor, start a line of its own, retitle the terminal or reverse what follows it.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
    return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
