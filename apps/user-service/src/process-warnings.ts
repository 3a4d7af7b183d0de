/**
 * Drops exactly one Node warning, `TimeoutNegativeWarning`, before anything else is loaded, so
 * `npm start`, `nest start`, the demo and the Docker image start without it (`node
 * --disable-warning=TimeoutNegativeWarning` does the same, but `nest start` cannot pass node
 * flags). Its cause is kafkajs 2.2.4, the last release: its request queue schedules a check at
 * `throttledUntil - Date.now()` while `throttledUntil` is still -1 (no throttling), a negative
 * delay that Node ≥ 23 reports and clamps to 1 ms — which is what kafkajs relied on. Nothing to fix
 * on our side short of patching the dependency; every other warning still prints.
 */
const emitWarning = process.emitWarning.bind(process);

process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
  const [typeOrOptions] = rest;
  const type =
    typeof typeOrOptions === 'string'
      ? typeOrOptions
      : (typeOrOptions as { type?: string } | undefined)?.type;
  if (type === 'TimeoutNegativeWarning') return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
