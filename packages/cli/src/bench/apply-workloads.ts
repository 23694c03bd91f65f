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

/** Bills and receivables fall due 30 days after the bench chain's genesis (block time starts there). */
const DUE_MS = 1_800_000_000_000 + 30 * 86_400_000;

/** bill.issue: each party draws bills on the next party as payee and the one after as acceptor. */
export const billIssueWorkload: ApplyWorkload = {
  name: "bill.issue",
  setup: () => [],
  timed: (parties, n) =>
    Array.from({ length: n }, (_, i) => ({
      signer: parties[i % parties.length]!,
      contract: "bill",
      action: "issue",
      args: {
        id: `b${i}`,
        payee: parties[(i + 1) % parties.length]!.id,
        acceptor: parties[(i + 2) % parties.length]!.id,
        amount: "1000000",
        dueMs: DUE_MS,
      },
    })),
};

/** bill.endorse: bills issued, accepted and delivered untimed; each holder endorses its bill on. */
export const billEndorseWorkload: ApplyWorkload = {
  name: "bill.endorse",
  setup: (parties, n) =>
    billIssueWorkload.timed(parties, n).flatMap((issue, i) => {
      const payee = parties[(i + 1) % parties.length]!;
      const acceptor = parties[(i + 2) % parties.length]!;
      return [
        issue,
        { signer: acceptor, contract: "bill", action: "accept", args: { id: `b${i}` } },
        { signer: issue.signer, contract: "bill", action: "endorse", args: { id: `b${i}`, to: payee.id } },
      ];
    }),
  timed: (parties, n) =>
    Array.from({ length: n }, (_, i) => ({
      signer: parties[(i + 1) % parties.length]!,
      contract: "bill",
      action: "endorse",
      args: { id: `b${i}`, to: parties[(i + 3) % parties.length]!.id },
    })),
};

/** receivable.register: each party registers receivables against the next party as debtor. */
export const receivableRegisterWorkload: ApplyWorkload = {
  name: "receivable.register",
  setup: () => [],
  timed: (parties, n) =>
    Array.from({ length: n }, (_, i) => ({
      signer: parties[i % parties.length]!,
      contract: "receivable",
      action: "register",
      args: { id: `r${i}`, debtor: parties[(i + 1) % parties.length]!.id, amount: "1000000", dueMs: DUE_MS, invoiceRef: `INV-${i}` },
    })),
};

/** Every workload, by name. */
export const APPLY_WORKLOADS: readonly ApplyWorkload[] = [
  transferWorkload,
  notarizeWorkload,
  billIssueWorkload,
  billEndorseWorkload,
  receivableRegisterWorkload,
];
