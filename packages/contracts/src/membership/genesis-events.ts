import type { Genesis } from "@tally/ledger";
import type { ContractEvent } from "../contract.js";
import { CHAIN_CONFIG_KEY, chainConfigFields, chainConfigFromGenesis } from "./chain-config.js";
import { institutionKey } from "./institution-entry.js";
import { sortedIds } from "./proposal-record.js";

/**
 * The membership events of block 0, which the executor folds with evolve at height 0: one
 * InstitutionAdmitted per genesis institution, in genesis order, then one ChainConfigInitialised
 * recording the sequencer set, the finality quorum, the governance threshold (2/3 when genesis
 * names none) and no supervision rules yet.
 */
export function membershipGenesisEvents(genesis: Genesis): ContractEvent[] {
  const admitted: ContractEvent[] = genesis.institutions.map((i) => ({
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
  const config: ContractEvent = {
    type: "ChainConfigInitialised",
    assetId: CHAIN_CONFIG_KEY,
    parties: sortedIds(genesis.institutions.map((i) => i.id)),
    data: chainConfigFields(chainConfigFromGenesis(genesis)),
  };
  return [...admitted, config];
}
