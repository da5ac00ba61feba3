/** Run `work` over `items` in order; each worker takes the next item when it is free. */
export async function forEachParallel<T, W>(
  items: readonly T[],
  workers: readonly W[],
  work: (item: T, worker: W) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  await Promise.all(
    workers.map(async (worker) => {
      // Stop taking new items once one failed: the run aborts anyway.
      while (!failed && next < items.length) {
        const item = items[next++];
        try {
          await work(item, worker);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    }),
  );
}

/** Open `n` resources in parallel; if any fails, close the others and rethrow. */
export async function openAll<R>(
  n: number,
  open: () => Promise<R>,
  close: (r: R) => Promise<void>,
): Promise<R[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, open));
  const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) {
    await Promise.all(ok.map(close));
    throw failure.reason;
  }
  return ok;
}
