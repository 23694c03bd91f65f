import { cash } from "./cash/cash.js";
import type { Contract } from "./contract.js";
import { membership } from "./membership/membership.js";
import { notary } from "./notary/notary.js";

/** The contracts every node runs, by name. */
export const builtinContracts: ReadonlyMap<string, Contract> = new Map([membership, cash, notary].map((c) => [c.name, c]));
