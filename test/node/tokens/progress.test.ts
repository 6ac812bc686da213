import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatProgressBar,
  formatProgressLine,
  startProgress,
} from '../../../scripts/lib/operator/progress.ts';

/** A writable that records what it is given, and a clock that moves only when told. */
function fakeTerminal(isTTY: boolean) {
  const chunks: string[] = [];
  let clock = 0;
  return {
    stream: { isTTY, write: (chunk: string) => chunks.push(chunk) },
    now: () => clock,
    tick: (ms: number) => {
      clock += ms;
    },
    chunks,
    text: () => chunks.join(''),
  };
}

/** `total` rows in steps of `step`, each step taking `msPerStep` on the fake clock. */
function run(isTTY: boolean, total: number, step: number, msPerStep: number) {
  const terminal = fakeTerminal(isTTY);
  const progress = startProgress({ total, stream: terminal.stream, now: terminal.now });
  for (let done = step; done <= total; done += step) {
    terminal.tick(msPerStep);
    progress.update(done);
  }
  progress.finish();
  return terminal;
}

describe('progress of a long pass over a table', () => {
  it('the bar shows rows done / total, percent, rows per second and time left', () => {
    expect(formatProgressBar({ done: 4_000, total: 10_000, elapsedMs: 5_000 })).toBe(
      '[##########..............] 4000/10000 rows   40%  800 rows/s  8 s left',
    );
    expect(formatProgressBar({ done: 0, total: 10_000, elapsedMs: 0 })).toBe(
      '[........................] 0/10000 rows    0%  0 rows/s  -- left',
    );
  });

  it('the plain line shows rows done of total, percent, rows per second and about how long is left', () => {
    expect(formatProgressLine({ done: 30_000, total: 60_000, elapsedMs: 60_000 })).toBe(
      '30000 of 60000 rows (50%), 500 rows/s, about 1 min 00 s left',
    );
  });

  it('durations read as seconds, minutes and seconds, or hours and minutes', () => {
    expect([0.2, 59, 61, 3_599, 3_600 + 3 * 60].map(formatDuration)).toEqual([
      '1 s',
      '59 s',
      '1 min 01 s',
      '59 min 59 s',
      '1 h 03 min',
    ]);
  });

  it('on a TTY redraws one line with \\r (at most every 100 ms) and ends it with a newline at 100%', () => {
    const terminal = run(true, 10_000, 100, 50);
    const draws = terminal.chunks.filter((chunk) => chunk.startsWith('\r'));
    // 100 updates 50 ms apart, drawn every other one (the last of them at 100%), plus the first draw.
    expect(draws.length).toBe(51);
    expect(terminal.text()).not.toMatch(/\n(?!$)/); // a single line, redrawn in place
    expect(draws.at(-1)).toBe('\r[########################] 10000/10000 rows  100%  2000 rows/s  0 s left\x1b[K');
    expect(terminal.chunks.at(-1)).toBe('\n');
    expect(draws[10]).toContain(' rows/s ');
    expect(draws[10]).toMatch(/ \d+ s left/);
  });

  it('on a TTY, a run shorter than a redraw still ends with its bar at 100%', () => {
    const terminal = run(true, 100, 100, 10);
    expect(terminal.chunks).toEqual([
      '\r[........................] 0/100 rows    0%  0 rows/s  -- left\x1b[K',
      '\r[########################] 100/100 rows  100%  10000 rows/s  0 s left\x1b[K',
      '\n',
    ]);
  });

  it.each([
    [1_000, 10, 1], // a second in all: no line
    [60_005, 5, 10], // two minutes
    [1_000_000, 100, 20], // over three hours
    [120_010, 1, 1],
  ])(
    'when not a TTY, %i rows in steps of %i at %i ms a step print at most ten plain lines, no \\r',
    (total, step, ms) => {
      const terminal = run(false, total, step, ms);
      const lines = terminal.text().split('\n').filter(Boolean);
      expect(lines.length).toBeLessThanOrEqual(10);
      expect(terminal.text()).not.toContain('\r');
      for (const line of lines) expect(line).toMatch(/^\d+ of \d+ rows \(\d+%\), \d+ rows\/s, about .+ left$/);
      if (total * (ms / step) > 100_000) expect(lines.length).toBeGreaterThanOrEqual(5);
    },
  );

  it('when not a TTY, a line waits for both a tenth of the rows and five seconds', () => {
    // A tenth every second: a line every five seconds. A tenth every minute: a line every tenth.
    const fast = run(false, 1_000, 100, 1_000).text().split('\n').filter(Boolean);
    expect(fast.map((line) => line.split(' ')[0])).toEqual(['500']);
    const slow = run(false, 1_000, 100, 60_000).text().split('\n').filter(Boolean);
    expect(slow.map((line) => line.split(' ')[0])).toEqual([
      '100',
      '200',
      '300',
      '400',
      '500',
      '600',
      '700',
      '800',
      '900',
    ]);
  });
});
