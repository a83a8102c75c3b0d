/** Ctrl-C (SIGINT) and SIGTERM alike: the first stops the work cleanly, a second quits at once. */

/**
 * Calls `stop` on the first SIGINT or SIGTERM; a second exits at once (130 for SIGINT, 143 for
 * SIGTERM). Returns the function that removes the handlers.
 */
export function onInterrupt(stop: (signal: NodeJS.Signals) => void): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (++count > 1) process.exit(signal === 'SIGTERM' ? 143 : 130);
    stop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
