// A scenario as a banker would tell it: who does what, in words, and the transaction that does
// it. The runner signs each step with the institution's key (and any co-signers' keys, for
// two-party acts), submits it through that institution's own gateway, and prints the outcome.
import { TxOutcome } from "@tally/proto/types";
import { signerFromKeyFile, type TallyClient } from "@tally/sdk";
import { clientFor } from "../clients.js";
import { formatUpdate } from "../format.js";
import type { readNetwork } from "../paths.js";

type Network = ReturnType<typeof readNetwork>;

/** One act of a scenario. `expect` names the reason code of a refusal the step demonstrates. */
export interface Step {
  readonly as: string;
  readonly say: string;
  readonly contract: string;
  readonly action: string;
  /** The args, or a function computing them from live state (a trade's hits from the book). */
  readonly args: unknown;
  readonly coSigners?: readonly string[];
  readonly expect?: string;
}

/** A wait in a scenario: until a wall-clock time (a due date), with the reason printed. */
export interface Wait {
  readonly waitUntilMs: number;
  readonly say: string;
}

/** What happened to one step. */
export interface StepOutcome {
  readonly step: string;
  readonly ok: boolean;
  readonly code: string;
}

/** Formats minor units (cents) as a banker reads them: 1,000,000.00. */
export function money(minor: bigint | string): string {
  const v = BigInt(minor);
  const whole = (v / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${whole}.${(v % 100n).toString().padStart(2, "0")}`;
}

/** Runs steps in order through each institution's own gateway; resolves with every outcome. */
export class ScenarioRunner {
  private readonly clients = new Map<string, TallyClient>();
  readonly outcomes: StepOutcome[] = [];
  /** The height of the last step's block: a query reads a state at least that recent. */
  private lastHeight = 0n;

  constructor(private readonly net: Network) {}

  client(id: string): TallyClient {
    let c = this.clients.get(id);
    if (c === undefined) this.clients.set(id, (c = clientFor(this.net, id)));
    return c;
  }

  private keyOf(id: string) {
    const inst = this.net.institutions.find((i) => i.id === id);
    if (inst === undefined) throw new Error(`unknown institution ${id}`);
    return signerFromKeyFile(inst.keyFile);
  }

  /** Submits one step and waits for its outcome; true when it went as the step expects. */
  async step(s: Step): Promise<boolean> {
    console.log(`\n${s.as}: ${s.say}`);
    const c = this.client(s.as);
    const tx = c.build(s.contract, s.action, s.args, { coSigners: (s.coSigners ?? []).map((id) => this.keyOf(id)) });
    const last = await c.submitAndWait(tx, (u) => console.log(formatUpdate(u)));
    if (last.height > this.lastHeight) this.lastHeight = last.height;
    const committed = last.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
    const code = committed ? "OK" : (last.result?.reasonCode ?? "UNKNOWN");
    const ok = s.expect === undefined ? committed : code === s.expect;
    this.outcomes.push({ step: `${s.contract}.${s.action} by ${s.as}`, ok, code });
    if (!ok) console.log(`  !! expected ${s.expect ?? "OK"}, got ${code}`);
    return ok;
  }

  /** Waits until a wall-clock time, saying why. */
  async wait(w: Wait): Promise<void> {
    const ms = w.waitUntilMs - Date.now();
    if (ms <= 0) return;
    console.log(`\n… ${w.say} (${Math.ceil(ms / 1000)} s)`);
    await new Promise((r) => setTimeout(r, ms));
  }

  /**
   * Queries through `as`'s own gateway. Its node may apply the last step's block a moment after
   * the node that answered the step did, so the query is repeated (bounded) until it reads a
   * state at least as recent as that block.
   */
  async query<T>(as: string, contract: string, query: string, args: unknown): Promise<T> {
    for (const until = Date.now() + 15_000; ; await new Promise((res) => setTimeout(res, 100))) {
      const r = await this.client(as).query<T>(contract, query, args);
      if (r.height >= this.lastHeight || Date.now() > until) return r.result;
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}
