/**
 * C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F): what a terminal acts on rather
 * than shows (a line break, an escape sequence, a title change), and what Postgres refuses (NUL).
 * Names an operator gives refuse them; text a command prints shows them escaped.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, every one of them
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function hasControlCharacter(value: string): boolean {
  return CONTROL_CHARACTER.test(value);
}

/**
 * The text with every control character written out visibly (`\n`, `\x1b`, `\u009b`), so a value
 * from the database or a flag prints as one line of plain characters and cannot move the cursor,
 * start a line of its own or retitle the terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
