// Graceful shutdown for a service's main.ts: on SIGTERM (or SIGINT) the steps run once, in
// order, and the process exits 0 when they are done. The whole shutdown is bounded: past
// drainTimeoutMs the process exits 1 whatever is still running, and a second signal exits at once.

/** One step of a shutdown, named for the log. */
export interface ShutdownStep {
  readonly name: string;
  /** Gets the time left until the drain deadline, for steps that take a grace period. */
  run(remainingMs: number): Promise<unknown> | void;
}

/** The little of a pino logger this needs. */
export interface ShutdownLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface GracefulShutdown {
  /** Runs the shutdown now (as a signal would), exiting with code when done. */
  shutdown(code?: number, why?: string): Promise<void>;
  readonly stopping: boolean;
}

/**
 * Installs SIGTERM/SIGINT handlers that run steps() in order within drainTimeoutMs. A step that
 * throws is logged and the next runs: a shutdown always reaches the end (closing the connections).
 * exit is process.exit, injectable for tests.
 */
export function onTerminate(
  o: { readonly log: ShutdownLog; readonly drainTimeoutMs: number; readonly steps: () => readonly ShutdownStep[] },
  exit: (code: number) => void = (c) => process.exit(c),
): GracefulShutdown {
  let stopping = false;
  const shutdown = async (code = 0, why = "requested"): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    const deadline = started + o.drainTimeoutMs;
    o.log.info({ why, drainTimeoutMs: o.drainTimeoutMs }, "shutting down");
    const timer = setTimeout(() => {
      o.log.error({ drainTimeoutMs: o.drainTimeoutMs }, "shutdown did not finish within DRAIN_TIMEOUT_MS: exiting anyway");
      exit(1);
    }, o.drainTimeoutMs);
    for (const step of o.steps()) {
      try {
        await step.run(Math.max(0, deadline - Date.now()));
      } catch (e) {
        o.log.warn({ step: step.name, err: e }, "shutdown step failed; going on");
      }
    }
    clearTimeout(timer);
    o.log.info({ ms: Date.now() - started, code }, "shutdown complete");
    exit(code);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      o.log.warn({ signal }, "second signal during shutdown: exiting now");
      exit(1);
      return;
    }
    void shutdown(0, signal);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    shutdown,
    get stopping() {
      return stopping;
    },
  };
}

/** Resolves when p settles or after ms, whichever is first (never rejects). */
export function within(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    p.then(
      () => (clearTimeout(t), resolve()),
      () => (clearTimeout(t), resolve()),
    );
  });
}
