/**
 * What of `wrangler dev`'s output `npm run dev` passes on. wrangler prints its bindings table
 * again whenever another local `wrangler dev` comes or goes (its dev registry): a table identical
 * to one already shown is dropped. Its "types might be out of date" hint compares against the
 * secrets in .dev.vars, which `npm run types` deliberately leaves out (.dev.vars.example), so it
 * shows on every start and suggests a command that would rewrite the tracked file: it is dropped,
 * and the dev stack runs the check `npm run types` agrees with instead (worker-types.ts).
 */
export class WranglerOutputFilter {
  private readonly shownBlocks = new Set<string>();
  private block: string[] | null = null;
  private held: string[] = [];

  /** The lines to print for this line: none while a bindings table is being collected. */
  keep(line: string): string[] {
    const plain = stripAnsi(line);
    if (this.block === null) {
      if (plain.includes('Your types might be out of date')) return [];
      if (!plain.startsWith('Your Worker has access to the following bindings')) return [line];
      this.block = [];
    }
    this.block.push(plain);
    this.held.push(line);
    // A table ends at its first empty line.
    if (plain.trim() !== '' || this.block.length === 1) return [];
    const key = this.block.join('\n');
    const lines = this.held;
    this.block = null;
    this.held = [];
    if (this.shownBlocks.has(key)) return [];
    this.shownBlocks.add(key);
    return lines;
  }
}

function stripAnsi(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes start with ESC.
  return line.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Copies a stream line by line through `filter`. */
export function forwardLines(
  from: NodeJS.ReadableStream | null,
  to: NodeJS.WritableStream,
  filter: (line: string) => string[],
): void {
  if (!from) return;
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) for (const kept of filter(line)) to.write(`${kept}\n`);
  });
  from.on('end', () => {
    if (rest) to.write(rest);
  });
}
