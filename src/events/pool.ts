/**
 * Deliveries one invocation keeps in flight at most. A Worker invocation has at most 6 outgoing
 * connections waiting for response headers; a 7th waits in line, and its delivery timeout runs
 * while it waits, so a healthy service's delivery could time out behind a hanging one's. Five
 * leaves one connection for the database's own traffic.
 */
export const DELIVERIES_IN_FLIGHT = 5;

/**
 * Runs `work` on every item, at most `limit` at once, in the items' order as slots free up. A
 * rejected item does not stop the others: each item's outcome is returned, in the items' order.
 */
export async function runPooled<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const outcomes: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      try {
        outcomes[index] = { status: 'fulfilled', value: await work(items[index] as T) };
      } catch (reason) {
        outcomes[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(limit, 1), items.length) }, worker));
  return outcomes;
}
