// The membership system contract (SCENARIOS.md §12). An institution manages its own keys with a
// single signature (add-key, revoke-key). Everything else takes votes: admitting an institution,
// changing roles, rotating or revoking another institution's key, suspending and reinstating, and
// the chain config (sequencer set, finality quorum, governance threshold, supervision rules). A
// voting member proposes, voting members vote, and the deciding vote applies the change in its
// own transaction (see governance.ts).
import { InvariantError } from "@tally/ledger";
import { isRejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { QUERY_SCAN_LIMIT_MAX } from "../run.js";
import { ANY_ROLE, WRITER_ROLES } from "../roles.js";
import { hex32, identifier, optionalIdentifier, parseArgs, timeMs, type Args } from "../schema.js";
import { CHAIN_CONFIG_KEY } from "./chain-config.js";
import { decidePropose, decideVote, type ProposeCommand, type VoteCommand } from "./governance.js";
import { oneOf } from "./governance-fields.js";
import { MEMBERSHIP_CONTRACT, MEMBERSHIP_INDEX_KEY, institutionKey, parseInstitutionEntry } from "./institution-entry.js";
import { addKeyRejection, revokeKeyRejection } from "./key-rules.js";
import { evolveMembership } from "./membership-evolve.js";
import { changeField, changeInstitution } from "./proposal-change.js";
import { PROPOSAL_KEY_PREFIX, proposalKey } from "./proposal-record.js";
import { USER_CONTRACTS_KEY, userCodeKey } from "./user-contract-records.js";

export { KEYS_PER_INSTITUTION_MAX } from "./key-rules.js";

type MembershipCommand =
  | { readonly action: "revoke-key"; readonly keyId: string }
  | { readonly action: "add-key"; readonly keyId: string; readonly publicKey: string }
  | ProposeCommand
  | VoteCommand;

function parseRevokeKey(args: Args): MembershipCommand | Rejection {
  const a = parseArgs(args, { keyId: identifier });
  return isRejection(a) ? a : { action: "revoke-key", keyId: a.keyId };
}

function parseAddKey(args: Args): MembershipCommand | Rejection {
  const a = parseArgs(args, { keyId: identifier, publicKey: hex32 });
  return isRejection(a) ? a : { action: "add-key", keyId: a.keyId, publicKey: a.publicKey };
}

function parsePropose(args: Args): MembershipCommand | Rejection {
  const a = parseArgs(args, { id: identifier, expiresAtMs: timeMs, change: changeField });
  return isRejection(a) ? a : { action: "propose", id: a.id, expiresAtMs: a.expiresAtMs, change: a.change };
}

function parseVote(args: Args): MembershipCommand | Rejection {
  const a = parseArgs(args, { proposal: identifier, vote: oneOf(["yes", "no"]), institution: optionalIdentifier });
  return isRejection(a) ? a : { action: "vote", proposal: a.proposal, vote: a.vote, institution: a.institution };
}

function ownEntry(state: StateSlice, self: string, during: string) {
  const v = state.get(institutionKey(self));
  // The signer passed the role check, so it is a member, and members come from this state.
  if (v === undefined) throw new InvariantError(`${during} for unknown institution ${self}`, "CONTRACT_STATE");
  return parseInstitutionEntry(v);
}

function keyEvent(type: string, institution: string, data: { readonly [k: string]: string }): ContractEvent {
  return { type, assetId: institutionKey(institution), parties: [institution], data: { institution, ...data } };
}

function decide(cmd: MembershipCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  switch (cmd.action) {
    case "revoke-key": {
      const no = revokeKeyRejection(ownEntry(state, ctx.signer, cmd.action), cmd.keyId);
      return no ?? [keyEvent("KeyRevoked", ctx.signer, { keyId: cmd.keyId })];
    }
    case "add-key": {
      const no = addKeyRejection(ownEntry(state, ctx.signer, cmd.action), cmd.keyId, cmd.publicKey);
      return no ?? [keyEvent("KeyAdded", ctx.signer, { keyId: cmd.keyId, publicKey: cmd.publicKey })];
    }
    case "propose":
      return decidePropose(cmd, state, ctx);
    case "vote":
      return decideVote(cmd, state, ctx);
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown membership command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

// A proposal or vote reads the proposal, the chain config (threshold, sequencers) and the index
// (admissions), and the entry of the institution it changes, which a vote restates for this.
// A deploy-contract change also reads the user contract index (always named: a vote does not know
// its proposal's change before the state is read) and, when proposed, writes the code.
function governanceKeys(proposal: string, institution: string | null | undefined): string[] {
  const keys = [proposalKey(proposal), CHAIN_CONFIG_KEY, MEMBERSHIP_INDEX_KEY, USER_CONTRACTS_KEY];
  return institution === null || institution === undefined ? keys : [...keys, institutionKey(institution)];
}

function keys(cmd: MembershipCommand, ctx: TxContext): readonly string[] {
  switch (cmd.action) {
    case "revoke-key":
    case "add-key":
      return [institutionKey(ctx.signer)];
    case "propose": {
      const keys = governanceKeys(cmd.id, changeInstitution(cmd.change));
      return cmd.change.kind === "deploy-contract" ? [...keys, userCodeKey(cmd.change.sha256)] : keys;
    }
    case "vote":
      return governanceKeys(cmd.proposal, cmd.institution);
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown membership command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

/**
 * The membership contract. State: `inst/<id>` → {id, name, roles, keys: [{keyId, publicKey,
 * active}], suspended?: true}; `index` → the sorted ids of every institution entry, suspended ones
 * included; `chain-config` → {record: "chain-config", sequencers, finality, governance,
 * supervision}; `proposal/<id>` → {record: "proposal", id, proposer, change, institution,
 * createdAtMs, expiresAtMs, status, yes, no, closedAtMs, parties}.
 */
export const membership: Contract = eraseContract<MembershipCommand>({
  name: MEMBERSHIP_CONTRACT,
  actions: {
    // Any member manages its own keys; ANY_ROLE admits every member holding a role.
    "revoke-key": { roles: ANY_ROLE, parse: parseRevokeKey },
    "add-key": { roles: ANY_ROLE, parse: parseAddKey },
    // Voting members govern; the regulator supervises and does not vote.
    propose: { roles: WRITER_ROLES, parse: parsePropose },
    vote: { roles: WRITER_ROLES, parse: parseVote },
  },
  keys,
  decide,
  evolve: evolveMembership,
  queries: {
    institution: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [institutionKey(q.id)],
      run: (q, state) => state.get(institutionKey(q.id)) ?? null,
      public: true,
    }),
    // A query sees only the keys it names before reading, so `members` reads the index alone and
    // returns the sorted member ids; call `institution` for an entry's name, roles and keys.
    members: eraseQuery<Record<string, never>>({
      parse: (args) => parseArgs(args, {}),
      keys: () => [MEMBERSHIP_INDEX_KEY],
      run: (_q, state) => state.get(MEMBERSHIP_INDEX_KEY) ?? [],
      public: true,
    }),
    "chain-config": eraseQuery<Record<string, never>>({
      parse: (args) => parseArgs(args, {}),
      keys: () => [CHAIN_CONFIG_KEY],
      run: (_q, state) => state.get(CHAIN_CONFIG_KEY) ?? null,
      public: true,
    }),
    proposal: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [proposalKey(q.id)],
      run: (q, state) => state.get(proposalKey(q.id)) ?? null,
      // Governance is the whole consortium's business: every voting member must see what it votes on.
      public: true,
    }),
    // The deployed user contracts: name → versions [{version, sha256, proposal, height}].
    "user-contracts": eraseQuery<Record<string, never>>({
      parse: (args) => parseArgs(args, {}),
      keys: () => [USER_CONTRACTS_KEY],
      run: (_q, state) => state.get(USER_CONTRACTS_KEY) ?? { record: "user-contracts", contracts: {} },
      public: true,
    }),
    // The first QUERY_SCAN_LIMIT_MAX proposals in id order, open or closed.
    proposals: eraseQuery<Record<string, never>>({
      parse: (args) => parseArgs(args, {}),
      keys: () => [],
      scan: () => ({ prefix: PROPOSAL_KEY_PREFIX, limit: QUERY_SCAN_LIMIT_MAX }),
      run: (_q, state) =>
        [...state]
          .filter(([k]) => k.startsWith(PROPOSAL_KEY_PREFIX))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, v]) => v),
      public: true,
    }),
  },
});
