/**
 * Queueing cross-checks for pool sizes: Little's law (busy connections = arrival rate × mean connection
 * hold time) and Erlang C (M/M/c: the chance that an arriving request finds all c connections busy).
 * Hand-written: a dozen lines of textbook formulas that neither simple-statistics nor jStat provide.
 */

/** Little's law: L = λ W. rate in 1/s, hold time in ms. */
export function busyConnections(ratePerSecond: number, meanHoldMs: number): number {
  return ratePerSecond * (meanHoldMs / 1000);
}

/** Erlang B by the stable recursion B(k) = A B(k-1) / (k + A B(k-1)). */
export function erlangB(servers: number, offeredLoad: number): number {
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offeredLoad * b) / (k + offeredLoad * b);
  return b;
}

/**
 * Erlang C: probability that an arrival waits, with `servers` connections and `offeredLoad` = λW busy
 * connections on average. 1 when the load reaches the servers (the queue grows without bound); 0 servers
 * means every request waits (for a connection to be opened).
 */
export function erlangC(servers: number, offeredLoad: number): number {
  if (offeredLoad <= 0) return 0;
  if (servers <= 0 || offeredLoad >= servers) return 1;
  const b = erlangB(servers, offeredLoad);
  return (servers * b) / (servers - offeredLoad * (1 - b));
}
