// Accounts receivable across supply-chain tiers (SCENARIOS.md §2). A supplier registers a
// receivable against a core enterprise (the debtor); the debtor confirms it, both signing; the
// holder passes it down the tiers whole or split into children `<id>.1..n`; a holder factors it
// with a bank for a cash advance; at maturity the debtor pays every leaf's holder in one
// transaction. Cash moves on the cash ledger, atomically with the receivable.
//
// Settling names its leaves: keys() cannot read state, so the settle command lists the root's
// live leaves with their holders, and decide rejects LEAVES_MISMATCH unless that list is exactly
// the root's record of its live leaves with their current holders.
import { InvariantError } from "@tally/ledger";
import type { Contract, TxContext } from "../contract.js";
import { CASH_CONTRACT, cashAccountKey } from "../cash/cash.js";
import { eraseContract } from "../erase-contract.js";
import { parsers, type ReceivableCommand } from "./receivable-commands.js";
import { HOLDER_ROLES, decide } from "./receivable-decide.js";
import { evolve } from "./receivable-evolve.js";
import { queries } from "./receivable-queries.js";
import { RECEIVABLE_CONTRACT, childId, heldKey, invoiceKey, receivableKey, rootOf } from "./receivable-record.js";

function keys(cmd: ReceivableCommand, ctx: TxContext): readonly string[] {
  const me = ctx.signer;
  switch (cmd.action) {
    case "register":
      return [receivableKey(cmd.id), heldKey(me, cmd.id), invoiceKey(cmd.debtor, me, cmd.invoiceRef)];
    case "confirm":
      return [receivableKey(cmd.id)];
    case "transfer":
      return [receivableKey(cmd.id), heldKey(me, cmd.id), heldKey(cmd.to, cmd.id)];
    case "split":
      return [
        receivableKey(cmd.id),
        receivableKey(rootOf(cmd.id)),
        heldKey(me, cmd.id),
        ...cmd.parts.flatMap((p, i) => [receivableKey(childId(cmd.id, i + 1)), heldKey(p.to, childId(cmd.id, i + 1))]),
      ];
    case "finance":
      return [receivableKey(cmd.id), heldKey(me, cmd.id), heldKey(cmd.bank, cmd.id), cashAccountKey(cmd.bank), cashAccountKey(me)];
    case "settle":
      return [
        receivableKey(cmd.id),
        cashAccountKey(me),
        ...cmd.leaves.flatMap((l) => [receivableKey(l.id), heldKey(l.holder, l.id), cashAccountKey(l.holder)]),
      ];
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown receivable command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

/**
 * The receivable contract. State: `recv/<id>` → the receivable (see ReceivableRecord; amounts as
 * decimal strings); `held/<holder>/recv/<id>` → {amount, debtor, dueMs} for each receivable held
 * (registered or confirmed); `invoice/<debtor>/<hash>` → {id} for each registered invoice.
 */
export const receivable: Contract = eraseContract<ReceivableCommand>({
  name: RECEIVABLE_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    register: { roles: ["enterprise"], parse: parsers.register },
    confirm: { roles: ["enterprise"], parse: parsers.confirm },
    transfer: { roles: HOLDER_ROLES, parse: parsers.transfer },
    split: { roles: HOLDER_ROLES, parse: parsers.split },
    finance: { roles: HOLDER_ROLES, parse: parsers.finance },
    settle: { roles: ["enterprise"], parse: parsers.settle },
  },
  keys,
  decide,
  evolve,
  queries,
});
