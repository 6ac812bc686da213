import { expect } from 'vitest';

/** Awaits a promise that must reject with an instance of `type`, and returns that error. */
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  const outcome = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(outcome).toBeInstanceOf(type);
  return outcome as E;
}
