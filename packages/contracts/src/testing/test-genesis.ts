// Fixtures for contract tests. Pure data; not exported from the package index.
import type { Genesis } from "@tally/ledger";
import type { MemberView } from "../contract.js";

/** A public key in hex made of one repeated byte, for fixtures. */
export function fixtureKey(byte: number): string {
  return byte.toString(16).padStart(2, "0").repeat(32);
}

/** A genesis with one institution per kind the contract tests need. bank-a holds two keys. */
export const TEST_GENESIS: Genesis = {
  chainId: "test-chain",
  genesisTimeMs: 1_700_000_000_000,
  institutions: [
    { id: "clear-a", name: "Clearing A", roles: ["clearing", "bank"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x11) }] },
    {
      id: "bank-a",
      name: "Bank A",
      roles: ["bank"],
      keys: [
        { keyId: "k1", publicKey: fixtureKey(0x21) },
        { keyId: "k2", publicKey: fixtureKey(0x22) },
      ],
    },
    { id: "bank-b", name: "Bank B", roles: ["bank"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x31) }] },
    { id: "ent-a", name: "Enterprise A", roles: ["enterprise"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x41) }] },
    { id: "reg", name: "The Regulator", roles: ["regulator"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x51) }] },
  ],
  sequencers: [{ id: "seq-1", publicKey: fixtureKey(0x61) }],
  validators: [{ nodeId: "node-1", institutionId: "clear-a", publicKey: fixtureKey(0x71) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
};

/** The members of TEST_GENESIS as a TxContext carries them. */
export const TEST_MEMBERS: ReadonlyMap<string, MemberView> = new Map(TEST_GENESIS.institutions.map((i) => [i.id, { roles: i.roles }]));
