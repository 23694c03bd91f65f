// Whether this node may answer reads. A node whose state root disagreed with a quorum's is
// diverged: its executor's query service reports NOT_SERVING and refuses reads with
// FAILED_PRECONDITION / NODE_DIVERGED until an operator resolves every open divergence record
// (`tally node resolve`); the record is polled, so resolving it needs no restart.
import { status } from "@grpc/grpc-js";
import { RpcError } from "@tally/rpc";
import type { Logger } from "@tally/telemetry";

/** The reason code of reads refused by a diverged node. */
export const NODE_DIVERGED = "NODE_DIVERGED";

/** The error a diverged node answers reads with. */
export function nodeDivergedError(): RpcError {
  return new RpcError(
    status.FAILED_PRECONDITION,
    "this node's state root differs from the validators' quorum; it answers no reads until an operator resolves the divergence",
    NODE_DIVERGED,
  );
}

/** Tracks divergence and drives the serving status. */
export class NodeHealth {
  private divergedNow = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly openDivergences: () => Promise<number>,
    private readonly setServing: (serving: boolean) => void,
    private readonly log: Logger,
  ) {}

  get diverged(): boolean {
    return this.divergedNow;
  }

  /** Reads the open records now. */
  async refresh(): Promise<void> {
    this.set((await this.openDivergences()) > 0);
  }

  /** Called by the tracker when it records a divergence. */
  noteDivergence(): void {
    this.set(true);
  }

  /** Polls the records every pollMs (an operator may resolve them from another process). */
  start(pollMs = 1000): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.refresh().then(tick, (e: unknown) => {
          this.log.warn({ err: e }, "divergence check failed");
          tick();
        });
      }, pollMs);
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Throws FAILED_PRECONDITION / NODE_DIVERGED while diverged. */
  guard(): void {
    if (this.divergedNow) throw nodeDivergedError();
  }

  private set(diverged: boolean): void {
    if (diverged === this.divergedNow) return;
    this.divergedNow = diverged;
    this.setServing(!diverged);
    if (diverged) this.log.error("node diverged: NOT_SERVING until an operator resolves the divergence");
    else this.log.info("divergence resolved: SERVING");
  }
}
