import { bill } from "./bill/bill.js";
import { bond } from "./bond/bond.js";
import { cash } from "./cash/cash.js";
import { charity } from "./charity/charity.js";
import type { Contract } from "./contract.js";
import { data } from "./data/data.js";
import { credential } from "./credential/credential.js";
import { medical } from "./medical/medical.js";
import { membership } from "./membership/membership.js";
import { notary } from "./notary/notary.js";
import { points } from "./points/points.js";
import { receivable } from "./receivable/receivable.js";
import { logistics } from "./supply/logistics.js";
import { warehouse } from "./supply/warehouse.js";
import { trade } from "./trade/trade.js";

/** The contracts every node runs, by name. */
export const builtinContracts: ReadonlyMap<string, Contract> = new Map(
  [membership, cash, notary, bill, receivable, warehouse, logistics, bond, trade, data, points, charity, medical, credential].map((c) => [
    c.name,
    c,
  ]),
);
