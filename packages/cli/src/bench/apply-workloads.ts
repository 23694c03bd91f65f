// The contract workloads the apply-rate bench runs. Each one's timed transactions are all
// expected to commit: a rejection would measure the wrong path, and the bench reports it.
import { createHash } from "node:crypto";
import type { ApplyWorkload, BenchParty, BenchTx } from "./apply-rate.js";

const FUNDS = "1000000000000";

/** The first party (every party holds the clearing role) funds every party's cash account. */
function funding(parties: readonly BenchParty[]): BenchTx[] {
  return parties.map((p) => ({ signer: parties[0]!, contract: "cash", action: "issue", args: { to: p.id, amount: FUNDS } }));
}

function hashOf(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/** cash.transfer around a ring of accounts. */
export const transferWorkload: ApplyWorkload = {
  name: "cash.transfer",
  setup: (parties) => funding(parties),
  timed: (parties, n) =>
    Array.from({ length: n }, (_, i) => ({
      signer: parties[i % parties.length]!,
      contract: "cash",
      action: "transfer",
      args: { to: parties[(i + 1) % parties.length]!.id, amount: "1" },
    })),
};

/** notary.register of distinct documents. */
export const notarizeWorkload: ApplyWorkload = {
  name: "notary.register",
  setup: () => [],
  timed: (parties, n) =>
    Array.from({ length: n }, (_, i) => ({
      signer: parties[i % parties.length]!,
      contract: "notary",
      action: "register",
      args: { hash: hashOf(`apply-bench document ${i}`), title: `document ${i}` },
    })),
};

/** Every workload, by name. */
export const APPLY_WORKLOADS: readonly ApplyWorkload[] = [transferWorkload, notarizeWorkload];
