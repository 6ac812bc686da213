import { isAlive } from './process-info.ts';

/**
 * Calls `onGone` once when the process that started this one ends. IDEs and process managers stop
 * `npm run dev` with a TERM to npm alone, which npm does not always pass on: without this, the
 * stack (Postgres, wrangler, workerd) would run on under PID 1, holding its ports. Being re-parented
 * is the portable sign (Linux, macOS); the parent no longer being alive catches the rest.
 */
export function watchParent(onGone: (parentPid: number) => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent && isAlive(parent)) return;
    clearInterval(timer);
    onGone(parent);
  }, intervalMs);
  // The stack's own children keep the process alive; this check alone must not.
  timer.unref();
  return () => clearInterval(timer);
}
