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
    { id: "clear-b", name: "Clearing B", roles: ["clearing", "bank"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x12) }] },
    { id: "ent-b", name: "Enterprise B", roles: ["enterprise"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x42) }] },
    { id: "ent-c", name: "Enterprise C", roles: ["enterprise"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x43) }] },
    { id: "issuer-a", name: "Issuer A", roles: ["issuer", "enterprise"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x81) }] },
    { id: "wh-a", name: "Warehouse A", roles: ["warehouse"], keys: [{ keyId: "k1", publicKey: fixtureKey(0x91) }] },
    { id: "oracle-a", name: "Oracle A", roles: ["oracle"], keys: [{ keyId: "k1", publicKey: fixtureKey(0xa1) }] },
    { id: "exch", name: "The Exchange", roles: ["exchange"], keys: [{ keyId: "k1", publicKey: fixtureKey(0xb1) }] },
  ],
  sequencers: [{ id: "seq-1", publicKey: fixtureKey(0x61) }],
  validators: [{ nodeId: "node-1", institutionId: "clear-a", publicKey: fixtureKey(0x71) }],
  finality: { quorumNumerator: 2, quorumDenominator: 3 },
};

/**
 * Members of the medical and credential tests (SCENARIOS.md §10). Kept out of TEST_GENESIS, whose
 * membership the governance tests count votes over; given() commands see them through TEST_MEMBERS.
 */
export const TEST_CIVIC_MEMBERS: readonly { readonly id: string; readonly roles: readonly string[] }[] = [
  { id: "hosp-a", roles: ["hospital"] },
  { id: "hosp-b", roles: ["hospital"] },
  { id: "pat-a", roles: ["patient"] },
  { id: "pat-b", roles: ["patient"] },
  { id: "school-a", roles: ["school"] },
  { id: "gov-a", roles: ["government"] },
];

/** The members of TEST_GENESIS, and TEST_CIVIC_MEMBERS, as a TxContext carries them. */
export const TEST_MEMBERS: ReadonlyMap<string, MemberView> = new Map(
  [...TEST_GENESIS.institutions, ...TEST_CIVIC_MEMBERS].map((i) => [i.id, { roles: i.roles }]),
);
