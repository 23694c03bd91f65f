import type { Genesis } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { institutionKey } from "./institution-entry.js";

/** One InstitutionAdmitted event per genesis institution, in genesis order; the executor folds them with evolve at height 0. */
export function membershipGenesisEvents(genesis: Genesis): ContractEvent[] {
  return genesis.institutions.map((i) => ({
    type: "InstitutionAdmitted",
    assetId: institutionKey(i.id),
    parties: [i.id],
    data: {
      id: i.id,
      name: i.name,
      roles: [...i.roles],
      // parseGenesis accepts either hex case; state holds one spelling so state roots agree.
      keys: i.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey.toLowerCase() })),
    },
  }));
}
