/**
 * Progress of a long pass over a table, written to stderr so that stdout (the report, `--json`)
 * stays clean. On a terminal: one bar, redrawn in place with `\r`, with rows done / total, rate
 * and time left. Anywhere else (a log file, CI, a pipe): a plain line each time the work has moved
 * on by a tenth AND five seconds have passed, so at most ten lines whatever the table's size, and
 * none for a run that takes a few seconds.
 */

/** Where progress goes: process.stderr, or in tests anything with `write` that says whether it is a TTY. */
export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

export interface ProgressSnapshot {
  done: number;
  total: number;
  elapsedMs: number;
}

export interface Progress {
  /** `done` rows of `total` are finished (a running count, not an increment). */
  update(done: number): void;
  /** The work is over: a terminal's bar gets its last redraw and its own line. */
  finish(): void;
}

const BAR_WIDTH = 24;
/** A terminal is redrawn at most this often, so a fast loop does not spend its time drawing. */
const REDRAW_EVERY_MS = 100;
const LINE_EVERY_FRACTION = 0.1;
const LINE_EVERY_MS = 5_000;

export function startProgress(options: {
  total: number;
  stream: ProgressStream;
  /** Milliseconds from any fixed origin; a test passes a fake clock. */
  now?: () => number;
}): Progress {
  const now = options.now ?? (() => performance.now());
  const { total, stream } = options;
  const started = now();
  const snapshot = (done: number): ProgressSnapshot => ({
    done: Math.min(done, total),
    total,
    elapsedMs: now() - started,
  });
  let lastDrawnAt = Number.NEGATIVE_INFINITY;
  let lastDrawnDone = -1;
  let lastLineAt = started;
  let lastLineDone = 0;
  let latest = 0;
  if (stream.isTTY) {
    const draw = (done: number) => {
      stream.write(`\r${formatProgressBar(snapshot(done))}\x1b[K`);
      lastDrawnAt = now();
      lastDrawnDone = done;
    };
    draw(0);
    return {
      update(done) {
        latest = done;
        if (now() - lastDrawnAt >= REDRAW_EVERY_MS) draw(done);
      },
      finish() {
        if (latest !== lastDrawnDone) draw(latest);
        stream.write('\n');
      },
    };
  }
  return {
    update(done) {
      const moved = done - lastLineDone >= total * LINE_EVERY_FRACTION;
      if (done >= total || !moved || now() - lastLineAt < LINE_EVERY_MS) return;
      stream.write(`${formatProgressLine(snapshot(done))}\n`);
      lastLineAt = now();
      lastLineDone = done;
    },
    finish() {},
  };
}

/** Rows per second so far, and seconds left at that rate (null until there is a rate). */
export function progressFigures({ done, total, elapsedMs }: ProgressSnapshot): {
  percent: number;
  rowsPerSecond: number;
  secondsLeft: number | null;
} {
  const percent = total > 0 ? Math.floor((Math.min(done, total) / total) * 100) : 100;
  const rowsPerSecond = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const secondsLeft = rowsPerSecond > 0 ? Math.max(0, total - done) / rowsPerSecond : null;
  return { percent, rowsPerSecond, secondsLeft };
}

/** `[#########...............] 4000/10000 rows  40%  812 rows/s  8 s left` */
export function formatProgressBar(snapshot: ProgressSnapshot): string {
  const { percent, rowsPerSecond, secondsLeft } = progressFigures(snapshot);
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  return (
    `${bar} ${snapshot.done}/${snapshot.total} rows  ${String(percent).padStart(3)}%  ` +
    `${Math.round(rowsPerSecond)} rows/s  ${secondsLeft === null ? '--' : formatDuration(secondsLeft)} left`
  );
}

/** `4000 of 10000 rows (40%), 812 rows/s, about 8 s left` */
export function formatProgressLine(snapshot: ProgressSnapshot): string {
  const { percent, rowsPerSecond, secondsLeft } = progressFigures(snapshot);
  return (
    `${snapshot.done} of ${snapshot.total} rows (${percent}%), ${Math.round(rowsPerSecond)} rows/s` +
    (secondsLeft === null ? '' : `, about ${formatDuration(secondsLeft)} left`)
  );
}

/** `8 s`, `2 min 05 s`, `1 h 03 min`. */
export function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  const two = (value: number) => String(value).padStart(2, '0');
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${two(whole % 60)} s`;
  return `${Math.floor(whole / 3600)} h ${two(Math.floor((whole % 3600) / 60))} min`;
}
