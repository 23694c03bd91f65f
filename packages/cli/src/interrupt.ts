/**
 * Runs cleanup on Ctrl-C or SIGTERM, then exits 130, so a long run never leaves its processes
 * behind. Returns a function that removes the handlers (call it when the run ends normally).
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  const handler = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
