// Digital bills (SCENARIOS.md §1): commercial acceptance bills issued by an enterprise, accepted,
// endorsed, split, discounted to and pledged with banks, and paid, dishonoured or claimed on by
// recourse at maturity. Every cash payment is a cash leg in the same transaction as the bill's act.
//
// Life of a bill, as this contract decides it:
// - issue (the drawer, an enterprise): names payee, acceptor, amount and due date. The drawer is the
//   first holder: every act that moves a bill out of a portfolio is then signed by its holder, so
//   keys can name the index entry without reading state. Before acceptance only the acceptor's
//   accept or the drawer's void may happen.
// - deliver: after acceptance, the drawer's one act is to endorse the bill to the payee (kind
//   "deliver" in the chain). From then on the holder endorses, splits, discounts and pledges it.
// - pay: at or after the due date the holder presents (signs) and the acceptor co-signs and pays.
// - dishonour: the holder records non-payment from one day after the due date (the acceptor has
//   the whole due day to pay). Recourse: the holder claims the face amount from an institution that
//   transferred the bill before the holder first received it (the drawer included); that one
//   co-signs and pays, and the bill is settled.
// - Endorsing, splitting, discounting, pledging and accepting stop at the due date. A pledged bill
//   takes no act but the pledgee's release: no payment, dishonour or transfer while pledged.
import { CASH_CONTRACT } from "../cash/cash.js";
import { type Contract } from "../contract.js";
import { eraseContract } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { billParsers, type BillCommand } from "./bill-args.js";
import { ACCEPTOR_ROLES, decide, keys } from "./bill-decide.js";
import { evolve } from "./bill-evolve.js";
import { billQueries } from "./bill-queries.js";
import { BILL_CONTRACT } from "./bill-state.js";

/**
 * The bill contract. State: `bill/<id>` → the bill (see Bill in bill-state.ts) and
 * `held/<holder>/bill/<id>` → {amount, dueMs} for every bill a holder holds. Uses cash.
 */
export const bill: Contract = eraseContract<BillCommand>({
  name: BILL_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    issue: { roles: ["enterprise"], parse: billParsers.issue },
    accept: { roles: ACCEPTOR_ROLES, parse: billParsers.accept },
    void: { roles: ["enterprise"], parse: billParsers.void },
    endorse: { roles: WRITER_ROLES, parse: billParsers.endorse },
    split: { roles: WRITER_ROLES, parse: billParsers.split },
    discount: { roles: WRITER_ROLES, parse: billParsers.discount },
    pledge: { roles: WRITER_ROLES, parse: billParsers.pledge },
    release: { roles: ["bank"], parse: billParsers.release },
    pay: { roles: WRITER_ROLES, parse: billParsers.pay },
    dishonour: { roles: WRITER_ROLES, parse: billParsers.dishonour },
    recourse: { roles: WRITER_ROLES, parse: billParsers.recourse },
  },
  keys,
  decide,
  evolve,
  queries: billQueries,
});
