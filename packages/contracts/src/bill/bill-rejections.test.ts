// Every way the bill contract says no: given a history / when a command / then the reason code.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { ContractEvent } from "../contract.js";
import { expectAccepted, expectRejection, type When } from "../testing/given-when-then.js";
import { BILL_TERM_MAX_MS, DAY_MS, ENDORSEMENTS_MAX } from "./bill-state.js";
import {
  ACCEPTED,
  DELIVERED,
  DISHONOURED,
  DUE,
  ENDORSED,
  FACE,
  FUNDING,
  ISSUED,
  T0,
  cashIssued,
  cmd,
  givenBill,
  history,
} from "./bill-test-fixtures.js";

function rejects(events: readonly ContractEvent[], when: When, code: string, message?: RegExp): void {
  const r = expectRejection(givenBill(events).when(when));
  assert.equal(r.code, code, `${when.signer} ${when.action} ${JSON.stringify(when.args)}: ${r.message}`);
  if (message !== undefined) assert.match(r.message, message);
}

const SOON = T0 + 10 * DAY_MS;
const PAID = history([cmd("issuer-a", "pay", { id: "b-1" }, DUE, "ent-c")], ENDORSED);
const VOIDED = history([cmd("ent-a", "void", { id: "b-1" }, T0 + 1000)], ISSUED);
const PLEDGED = history([cmd("ent-b", "pledge", { id: "b-1", bank: "bank-a" }, T0 + 3000, "bank-a")], DELIVERED);
const SPLIT = history([cmd("ent-b", "split", { id: "b-1", amounts: ["1", "999999"] }, T0 + 3000)], DELIVERED);
const SETTLED = history([cmd("issuer-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + 2 * DAY_MS, "ent-b")], DISHONOURED);

// Every act on b-1 by a signer with every co-signer it could need, at a time the act would otherwise be allowed.
function everyAct(signer: string, time: number): When[] {
  const all = ["ent-a", "ent-b", "ent-c", "issuer-a", "bank-a", "bank-b"];
  return [
    cmd(signer, "accept", { id: "b-1" }, Math.min(time, DUE - 1), ...all),
    cmd(signer, "void", { id: "b-1" }, time, ...all),
    cmd(signer, "endorse", { id: "b-1", to: "bank-b" }, Math.min(time, DUE - 1), ...all),
    cmd(signer, "split", { id: "b-1", amounts: ["500000", "500000"] }, Math.min(time, DUE - 1), ...all),
    cmd(signer, "discount", { id: "b-1", bank: "bank-b", rateBp: 100 }, Math.min(time, DUE - 1), ...all),
    cmd(signer, "pledge", { id: "b-1", bank: "bank-b" }, Math.min(time, DUE - 1), ...all),
    cmd(signer, "release", { id: "b-1" }, time, ...all),
    cmd(signer, "pay", { id: "b-1" }, Math.max(time, DUE), ...all),
    cmd(signer, "dishonour", { id: "b-1" }, Math.max(time, DUE + DAY_MS), ...all),
    cmd(signer, "recourse", { id: "b-1", from: "ent-a" }, Math.max(time, DUE + DAY_MS), ...all),
  ];
}

function roleOk(when: When): boolean {
  if (when.action === "release") return when.signer.startsWith("bank");
  if (["accept"].includes(when.action)) return !when.signer.startsWith("wh");
  if (["void", "issue"].includes(when.action)) return when.signer.startsWith("ent") || when.signer === "issuer-a";
  return true;
}

describe("double spending", () => {
  test("NOT_HOLDER: endorsing a bill you no longer hold", () => {
    rejects(
      ENDORSED,
      cmd("ent-b", "endorse", { id: "b-1", to: "bank-b" }, T0 + 4000),
      "NOT_HOLDER",
      /ent-b does not hold bill b-1 \(1000000\); issuer-a does/,
    );
  });

  test("NOT_HOLDER: splitting, discounting, pledging or presenting a bill you no longer hold", () => {
    rejects(ENDORSED, cmd("ent-b", "split", { id: "b-1", amounts: ["1", "999999"] }, T0 + 4000), "NOT_HOLDER");
    rejects(ENDORSED, cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 1 }, T0 + 4000, "bank-a"), "NOT_HOLDER");
    rejects(ENDORSED, cmd("ent-b", "pledge", { id: "b-1", bank: "bank-a" }, T0 + 4000, "bank-a"), "NOT_HOLDER");
    rejects(ENDORSED, cmd("ent-b", "pay", { id: "b-1" }, DUE, "ent-c"), "NOT_HOLDER");
    rejects(ENDORSED, cmd("ent-b", "dishonour", { id: "b-1" }, DUE + DAY_MS), "NOT_HOLDER");
    rejects(DISHONOURED, cmd("ent-b", "recourse", { id: "b-1", from: "ent-a" }, DUE + DAY_MS, "ent-a"), "NOT_HOLDER");
  });

  test("NOT_HOLDER: the drawer cannot deliver twice; a discounted bill cannot be endorsed by the old holder", () => {
    rejects(DELIVERED, cmd("ent-a", "endorse", { id: "b-1", to: "ent-b" }, T0 + 3000), "NOT_HOLDER");
    const discounted = history([cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 100 }, T0 + 3000, "bank-a")], DELIVERED);
    rejects(discounted, cmd("ent-b", "endorse", { id: "b-1", to: "issuer-a" }, T0 + 4000), "NOT_HOLDER");
  });
});

describe("closed bills", () => {
  for (const [name, events, code] of [
    ["paid", PAID, "BILL_PAID"],
    ["voided", VOIDED, "BILL_VOIDED"],
    ["settled", SETTLED, "BILL_SETTLED"],
    ["split", SPLIT, "BILL_SPLIT"],
  ] as const) {
    test(`${code}: no act on a ${name} bill, by anyone`, () => {
      for (const signer of ["ent-a", "ent-b", "ent-c", "issuer-a", "bank-a"]) {
        for (const when of everyAct(signer, DUE + 3 * DAY_MS).filter(roleOk)) rejects(events, when, code);
      }
    });
  }

  test("BILL_DISHONOURED: a dishonoured bill is neither paid nor traded; only recourse is left", () => {
    for (const when of everyAct("issuer-a", DUE + 3 * DAY_MS).filter((w) => !["recourse", "release"].includes(w.action))) {
      rejects(DISHONOURED, when, "BILL_DISHONOURED");
    }
  });
});

describe("acts before acceptance", () => {
  test("NOT_ACCEPTED: the drawer cannot deliver, endorse, split, discount, pledge, present or dishonour", () => {
    for (const when of everyAct("ent-a", T0 + 1000).filter((w) => !["accept", "void", "release"].includes(w.action))) {
      rejects(ISSUED, when, "NOT_ACCEPTED");
    }
    rejects(ISSUED, cmd("ent-a", "endorse", { id: "b-1", to: "ent-b" }, T0 + 1000), "NOT_ACCEPTED");
    rejects(ISSUED, cmd("bank-a", "release", { id: "b-1" }, T0 + 1000), "NOT_ACCEPTED");
  });

  test("ALREADY_ACCEPTED: accepting twice, or voiding an accepted bill", () => {
    rejects(ACCEPTED, cmd("ent-c", "accept", { id: "b-1" }, T0 + 2000), "ALREADY_ACCEPTED");
    rejects(ACCEPTED, cmd("ent-a", "void", { id: "b-1" }, T0 + 2000), "ALREADY_ACCEPTED");
  });

  test("PAST_DUE: a bill cannot be accepted at or after its due date", () => {
    rejects(ISSUED, cmd("ent-c", "accept", { id: "b-1" }, DUE), "PAST_DUE");
  });
});

describe("delivery", () => {
  test("NOT_DELIVERED: until delivery the drawer may not split, discount, pledge, present or dishonour", () => {
    rejects(ACCEPTED, cmd("ent-a", "split", { id: "b-1", amounts: ["1", "999999"] }, SOON), "NOT_DELIVERED");
    rejects(ACCEPTED, cmd("ent-a", "discount", { id: "b-1", bank: "bank-a", rateBp: 1 }, SOON, "bank-a"), "NOT_DELIVERED");
    rejects(ACCEPTED, cmd("ent-a", "pledge", { id: "b-1", bank: "bank-a" }, SOON, "bank-a"), "NOT_DELIVERED");
    rejects(ACCEPTED, cmd("ent-a", "pay", { id: "b-1" }, DUE, "ent-c"), "NOT_DELIVERED");
    rejects(ACCEPTED, cmd("ent-a", "dishonour", { id: "b-1" }, DUE + DAY_MS), "NOT_DELIVERED");
  });

  test("WRONG_PAYEE: the first transfer goes to the payee", () => {
    rejects(ACCEPTED, cmd("ent-a", "endorse", { id: "b-1", to: "issuer-a" }, SOON), "WRONG_PAYEE", /ent-b/);
  });
});

describe("splits", () => {
  test("SPLIT_SUM_MISMATCH: children that sum to less or more than the parent", () => {
    rejects(DELIVERED, cmd("ent-b", "split", { id: "b-1", amounts: ["500000", "499999"] }, SOON), "SPLIT_SUM_MISMATCH", /999999.*1000000/);
    rejects(DELIVERED, cmd("ent-b", "split", { id: "b-1", amounts: ["500000", "500001"] }, SOON), "SPLIT_SUM_MISMATCH", /1000001/);
  });
});

describe("pledged bills", () => {
  test("BILL_PLEDGED: a pledged bill cannot be endorsed", () => {
    rejects(PLEDGED, cmd("ent-b", "endorse", { id: "b-1", to: "issuer-a" }, SOON), "BILL_PLEDGED", /bank-a/);
  });

  test("BILL_PLEDGED: nor split, discounted, pledged again, paid or dishonoured", () => {
    rejects(PLEDGED, cmd("ent-b", "split", { id: "b-1", amounts: ["1", "999999"] }, SOON), "BILL_PLEDGED");
    rejects(PLEDGED, cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 1 }, SOON, "bank-a"), "BILL_PLEDGED");
    rejects(PLEDGED, cmd("ent-b", "pledge", { id: "b-1", bank: "bank-b" }, SOON, "bank-b"), "BILL_PLEDGED");
    rejects(PLEDGED, cmd("ent-b", "pay", { id: "b-1" }, DUE, "ent-c"), "BILL_PLEDGED");
    rejects(PLEDGED, cmd("ent-b", "dishonour", { id: "b-1" }, DUE + DAY_MS), "BILL_PLEDGED");
  });

  test("NOT_PLEDGEE: only the pledgee releases; NOT_PLEDGED: releasing a bill not pledged", () => {
    rejects(PLEDGED, cmd("bank-b", "release", { id: "b-1" }, SOON), "NOT_PLEDGEE", /bank-a/);
    rejects(DELIVERED, cmd("bank-a", "release", { id: "b-1" }, SOON), "NOT_PLEDGED");
  });
});

describe("maturity", () => {
  test("NOT_DUE: paying before maturity", () => {
    rejects(ENDORSED, cmd("issuer-a", "pay", { id: "b-1" }, DUE - 1, "ent-c"), "NOT_DUE", new RegExp(`${DUE}`));
  });

  test("NOT_OVERDUE: non-payment is recorded only from a day after the due date", () => {
    rejects(ENDORSED, cmd("issuer-a", "dishonour", { id: "b-1" }, DUE, "ent-c"), "NOT_OVERDUE");
    rejects(ENDORSED, cmd("issuer-a", "dishonour", { id: "b-1" }, DUE + DAY_MS - 1), "NOT_OVERDUE");
  });

  test("PAST_DUE: no endorsement, delivery, split, discount or pledge at or after the due date", () => {
    rejects(ACCEPTED, cmd("ent-a", "endorse", { id: "b-1", to: "ent-b" }, DUE), "PAST_DUE");
    rejects(DELIVERED, cmd("ent-b", "endorse", { id: "b-1", to: "issuer-a" }, DUE), "PAST_DUE");
    rejects(DELIVERED, cmd("ent-b", "split", { id: "b-1", amounts: ["1", "999999"] }, DUE + 1), "PAST_DUE");
    rejects(DELIVERED, cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 1 }, DUE, "bank-a"), "PAST_DUE");
    rejects(DELIVERED, cmd("ent-b", "pledge", { id: "b-1", bank: "bank-a" }, DUE, "bank-a"), "PAST_DUE");
  });

  test("NOT_DISHONOURED: recourse on a bill not dishonoured", () => {
    rejects(ENDORSED, cmd("issuer-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + 2 * DAY_MS, "ent-b"), "NOT_DISHONOURED");
  });
});

describe("recourse", () => {
  test("NOT_PRIOR_ENDORSER: not the holder itself, the acceptor, a stranger, or someone after the holder", () => {
    for (const from of ["issuer-a", "ent-c", "bank-a", "nobody"]) {
      rejects(DISHONOURED, cmd("issuer-a", "recourse", { id: "b-1", from }, DUE + 2 * DAY_MS, from), "NOT_PRIOR_ENDORSER", /ent-a, ent-b/);
    }
  });

  test("NOT_PRIOR_ENDORSER: a holder that got its bill back claims only on those before its first receipt", () => {
    const events = history(
      [
        cmd("ent-b", "endorse", { id: "b-1", to: "issuer-a" }, T0 + 3000),
        cmd("issuer-a", "endorse", { id: "b-1", to: "ent-b" }, T0 + 4000),
        cmd("ent-b", "dishonour", { id: "b-1" }, DUE + DAY_MS),
      ],
      DELIVERED,
    );
    rejects(events, cmd("ent-b", "recourse", { id: "b-1", from: "issuer-a" }, DUE + 2 * DAY_MS, "issuer-a"), "NOT_PRIOR_ENDORSER");
    expectAccepted(givenBill(events).when(cmd("ent-b", "recourse", { id: "b-1", from: "ent-a" }, DUE + 2 * DAY_MS, "ent-a")));
  });

  test("NOT_PRIOR_ENDORSER: a drawer holding its own dishonoured bill has no one to claim on", () => {
    const events = history(
      [cmd("ent-b", "endorse", { id: "b-1", to: "ent-a" }, T0 + 3000), cmd("ent-a", "dishonour", { id: "b-1" }, DUE + DAY_MS)],
      DELIVERED,
    );
    rejects(events, cmd("ent-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + 2 * DAY_MS, "ent-b"), "NOT_PRIOR_ENDORSER", /no one/);
  });
});

describe("wrong roles", () => {
  const cases: [string, When][] = [
    ["a bank cannot draw a bill", cmd("bank-a", "issue", { id: "b-2", payee: "ent-b", acceptor: "ent-c", amount: "1", dueMs: DUE }, T0)],
    ["a warehouse cannot draw a bill", cmd("wh-a", "issue", { id: "b-2", payee: "ent-b", acceptor: "ent-c", amount: "1", dueMs: DUE }, T0)],
    ["a warehouse cannot accept", cmd("wh-a", "accept", { id: "b-1" }, T0 + 1000)],
    ["a bank cannot void", cmd("bank-a", "void", { id: "b-1" }, T0 + 1000)],
    ["an enterprise cannot release a pledge", cmd("ent-a", "release", { id: "b-1" }, T0 + 1000)],
    ["the regulator cannot endorse", cmd("reg", "endorse", { id: "b-1", to: "ent-b" }, T0 + 1000)],
    ["the regulator cannot pay", cmd("reg", "pay", { id: "b-1" }, DUE)],
    ["a stranger cannot do anything", cmd("nobody", "split", { id: "b-1", amounts: ["1", "2"] }, T0 + 1000)],
  ];
  for (const [name, when] of cases) {
    test(`FORBIDDEN_ROLE: ${name}`, () => rejects(ENDORSED, when, "FORBIDDEN_ROLE"));
  }

  test("NOT_ACCEPTOR and NOT_DRAWER: a party with the right role but the wrong part", () => {
    rejects(ISSUED, cmd("ent-b", "accept", { id: "b-1" }, T0 + 1000), "NOT_ACCEPTOR", /ent-c/);
    rejects(ISSUED, cmd("bank-a", "accept", { id: "b-1" }, T0 + 1000), "NOT_ACCEPTOR");
    rejects(ISSUED, cmd("ent-b", "void", { id: "b-1" }, T0 + 1000), "NOT_DRAWER", /ent-a/);
  });

  test("INELIGIBLE_PARTY: a warehouse acceptor, a non-bank discounter or pledgee, the regulator as payee or endorsee", () => {
    const issue = (payee: string, acceptor: string) => cmd("ent-a", "issue", { id: "b-2", payee, acceptor, amount: "1", dueMs: DUE }, T0);
    rejects(FUNDING, issue("ent-b", "wh-a"), "INELIGIBLE_PARTY", /acceptor/);
    rejects(FUNDING, issue("reg", "ent-c"), "INELIGIBLE_PARTY", /payee/);
    rejects(DELIVERED, cmd("ent-b", "discount", { id: "b-1", bank: "ent-c", rateBp: 1 }, SOON, "ent-c"), "INELIGIBLE_PARTY");
    rejects(DELIVERED, cmd("ent-b", "pledge", { id: "b-1", bank: "issuer-a" }, SOON, "issuer-a"), "INELIGIBLE_PARTY");
    rejects(DELIVERED, cmd("ent-b", "endorse", { id: "b-1", to: "reg" }, SOON), "INELIGIBLE_PARTY");
  });

  test("UNKNOWN_MEMBER: a payee, acceptor, endorsee or bank that is not a member", () => {
    const issue = (payee: string, acceptor: string) => cmd("ent-a", "issue", { id: "b-2", payee, acceptor, amount: "1", dueMs: DUE }, T0);
    rejects(FUNDING, issue("nobody", "ent-c"), "UNKNOWN_MEMBER");
    rejects(FUNDING, issue("ent-b", "nobody"), "UNKNOWN_MEMBER");
    rejects(DELIVERED, cmd("ent-b", "endorse", { id: "b-1", to: "nobody" }, SOON), "UNKNOWN_MEMBER");
    rejects(DELIVERED, cmd("ent-b", "discount", { id: "b-1", bank: "nobody", rateBp: 1 }, SOON), "UNKNOWN_MEMBER");
  });
});

describe("signatures", () => {
  test("MISSING_SIGNATURE: a discount without the bank's signature", () => {
    rejects(DELIVERED, cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 100 }, SOON), "MISSING_SIGNATURE", /bank-a/);
    rejects(DELIVERED, cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 100 }, SOON, "bank-b"), "MISSING_SIGNATURE");
  });

  test("MISSING_SIGNATURE: a pledge without the bank's", () => {
    rejects(DELIVERED, cmd("ent-b", "pledge", { id: "b-1", bank: "bank-a" }, SOON), "MISSING_SIGNATURE", /bank-a/);
  });

  test("MISSING_SIGNATURE: a payment without the acceptor's", () => {
    rejects(ENDORSED, cmd("issuer-a", "pay", { id: "b-1" }, DUE), "MISSING_SIGNATURE", /ent-c/);
  });

  test("MISSING_SIGNATURE: recourse without the paying endorser's", () => {
    rejects(DISHONOURED, cmd("issuer-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + 2 * DAY_MS), "MISSING_SIGNATURE", /ent-b/);
  });
});

describe("cash", () => {
  test("INSUFFICIENT_FUNDS: a bank without the proceeds, an acceptor without the face amount, an endorser without the claim", () => {
    const unfunded = DELIVERED.filter((e) => !(e.contract === "cash" && ["bank-b", "ent-c", "ent-b"].includes(e.data.to as string)));
    rejects(
      unfunded,
      cmd("ent-b", "discount", { id: "b-1", bank: "bank-b", rateBp: 100 }, SOON, "bank-b"),
      "INSUFFICIENT_FUNDS",
      /bank-b holds 0/,
    );
    const endorsed = history([cmd("ent-b", "endorse", { id: "b-1", to: "issuer-a" }, T0 + 3000)], unfunded);
    rejects(endorsed, cmd("issuer-a", "pay", { id: "b-1" }, DUE, "ent-c"), "INSUFFICIENT_FUNDS", /ent-c holds 0/);
    const dishonoured = history([cmd("issuer-a", "dishonour", { id: "b-1" }, DUE + DAY_MS)], endorsed);
    rejects(dishonoured, cmd("issuer-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + DAY_MS, "ent-b"), "INSUFFICIENT_FUNDS");
    const some = [...dishonoured, cashIssued("ent-b", FACE)];
    expectAccepted(givenBill(some).when(cmd("issuer-a", "recourse", { id: "b-1", from: "ent-b" }, DUE + DAY_MS, "ent-b")));
  });
});

describe("other rules", () => {
  test("UNKNOWN_BILL for every act on a bill that does not exist", () => {
    for (const when of everyAct("ent-b", SOON).filter(roleOk)) {
      rejects(ENDORSED, { ...when, args: { ...(when.args as object), id: "b-9" } }, "UNKNOWN_BILL", /b-9/);
    }
  });

  test("BILL_EXISTS: an id is issued once", () => {
    rejects(ISSUED, cmd("ent-b", "issue", { id: "b-1", payee: "ent-c", acceptor: "ent-c", amount: "1", dueMs: DUE }, T0), "BILL_EXISTS");
  });

  test("SAME_PARTY: drawing to oneself, endorsing, discounting or pledging to oneself", () => {
    rejects(FUNDING, cmd("ent-a", "issue", { id: "b-2", payee: "ent-a", acceptor: "ent-c", amount: "1", dueMs: DUE }, T0), "SAME_PARTY");
    rejects(DELIVERED, cmd("ent-b", "endorse", { id: "b-1", to: "ent-b" }, SOON), "SAME_PARTY");
    const banked = history([cmd("ent-b", "discount", { id: "b-1", bank: "bank-a", rateBp: 1 }, SOON, "bank-a")], DELIVERED);
    rejects(banked, cmd("bank-a", "discount", { id: "b-1", bank: "bank-a", rateBp: 1 }, SOON), "SAME_PARTY");
    rejects(banked, cmd("bank-a", "pledge", { id: "b-1", bank: "bank-a" }, SOON), "SAME_PARTY");
  });

  test("DUE_NOT_FUTURE and TERM_TOO_LONG: a due date after issue, within a year", () => {
    const issue = (dueMs: number) => cmd("ent-a", "issue", { id: "b-2", payee: "ent-b", acceptor: "ent-c", amount: "1", dueMs }, T0);
    rejects(FUNDING, issue(T0), "DUE_NOT_FUTURE");
    rejects(FUNDING, issue(T0 - 1), "DUE_NOT_FUTURE");
    rejects(FUNDING, issue(T0 + BILL_TERM_MAX_MS + 1), "TERM_TOO_LONG");
    expectAccepted(givenBill(FUNDING).when(issue(T0 + BILL_TERM_MAX_MS)));
    expectAccepted(givenBill(FUNDING).when(issue(T0 + 1)));
  });

  test("DISCOUNT_TOO_LARGE: a discount that would take the whole amount", () => {
    const long = history(
      [
        cmd("ent-a", "issue", { id: "b-2", payee: "ent-b", acceptor: "ent-c", amount: "1000", dueMs: T0 + BILL_TERM_MAX_MS }, T0),
        cmd("ent-c", "accept", { id: "b-2" }, T0),
        cmd("ent-a", "endorse", { id: "b-2", to: "ent-b" }, T0),
      ],
      FUNDING,
    );
    // 1000 × 10000 × 366 / 3600000 = 1016.
    rejects(long, cmd("ent-b", "discount", { id: "b-2", bank: "bank-a", rateBp: 10_000 }, T0, "bank-a"), "DISCOUNT_TOO_LARGE", /1016/);
    // 360 days: 1000 × 10000 × 360 / 3600000 = 1000, the whole amount.
    rejects(long, cmd("ent-b", "discount", { id: "b-2", bank: "bank-a", rateBp: 10_000 }, T0 + 6 * DAY_MS, "bank-a"), "DISCOUNT_TOO_LARGE");
    expectAccepted(
      givenBill(long).when(cmd("ent-b", "discount", { id: "b-2", bank: "bank-a", rateBp: 10_000 }, T0 + 7 * DAY_MS, "bank-a")),
    );
  });

  test(`CHAIN_FULL: a bill changes hands at most ${ENDORSEMENTS_MAX} times`, () => {
    const steps: When[] = [];
    for (let i = 1; i < ENDORSEMENTS_MAX; i++) {
      const [from, to] = i % 2 === 1 ? ["ent-b", "issuer-a"] : ["issuer-a", "ent-b"];
      steps.push(cmd(from, "endorse", { id: "b-1", to }, T0 + 3000 + i));
    }
    const full = history(steps, DELIVERED);
    const holder = ENDORSEMENTS_MAX % 2 === 0 ? "issuer-a" : "ent-b";
    rejects(full, cmd(holder, "endorse", { id: "b-1", to: "bank-b" }, SOON), "CHAIN_FULL");
    rejects(full, cmd(holder, "discount", { id: "b-1", bank: "bank-b", rateBp: 1 }, SOON, "bank-b"), "CHAIN_FULL");
    expectAccepted(givenBill(full).when(cmd(holder, "split", { id: "b-1", amounts: ["1", "999999"] }, SOON)));
  });
});
