// Governance by votes (SCENARIOS.md §12): a voting member proposes a change, voting members vote
// yes or no, and the vote that brings the yes votes to the threshold applies the change in its own
// transaction. Voting members are the current members holding a writer role; the regulator alone
// does not vote. Votes count only while their voter is a voting member, so a suspended or demoted
// member's vote no longer counts.
import { InvariantError, canonicalJson, type JsonValue } from "@tally/ledger";
import {
  isRejection,
  rejection,
  type ContractEvent,
  type MemberView,
  type Rejection,
  type StateSlice,
  type TxContext,
} from "../contract.js";
import { readStringArray } from "../state-read.js";
import {
  CHAIN_CONFIG_KEY,
  SEQUENCERS_MAX,
  parseChainConfig,
  sandboxLimitsOf,
  sandboxSettingJson,
  votesNeeded,
  votingMembers,
  type ChainConfig,
} from "./chain-config.js";
import {
  USER_CONTRACTS_KEY,
  USER_CONTRACT_VERSIONS_MAX,
  parseUserContractIndex,
  userCodeKey,
  userContractVersionCount,
} from "./user-contract-records.js";
import { MEMBERSHIP_INDEX_KEY, institutionKey, parseInstitutionEntry, type InstitutionEntry } from "./institution-entry.js";
import { addKeyRejection, revokeKeyRejection } from "./key-rules.js";
import { changeInstitution, changeJson, supervisionJson, type Change } from "./proposal-change.js";
import { parseProposal, proposalKey, sortedIds, type ProposalRecord } from "./proposal-record.js";

/** Most institutions membership holds, suspended ones included; it bounds the index and every proposal's voters. */
export const MEMBERS_MAX = 256;

/** Longest a proposal may stay open: 30 days, in ms. */
export const PROPOSAL_TTL_MAX_MS = 30 * 24 * 60 * 60 * 1000;

/** A proposal as its proposer submits it. */
export interface ProposeCommand {
  readonly action: "propose";
  readonly id: string;
  readonly expiresAtMs: number;
  readonly change: Change;
}

/** A vote on an open proposal. `institution` restates the institution the proposal changes, so keys() can name its entry. */
export interface VoteCommand {
  readonly action: "vote";
  readonly proposal: string;
  readonly vote: "yes" | "no";
  readonly institution: string | undefined;
}

function event(type: string, assetId: string, parties: readonly string[], data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId, parties, data };
}

function entryOf(state: StateSlice, id: string): InstitutionEntry | undefined {
  const v = state.get(institutionKey(id));
  return v === undefined ? undefined : parseInstitutionEntry(v);
}

function mustConfig(state: StateSlice): ChainConfig {
  const v = state.get(CHAIN_CONFIG_KEY);
  // Genesis writes the chain config before any transaction, so its absence is our bug.
  if (v === undefined) throw new InvariantError("membership has no chain-config; genesis writes it", "CONTRACT_STATE");
  return parseChainConfig(v);
}

function notFound(id: string): Rejection {
  return rejection("INSTITUTION_NOT_FOUND", `no institution ${id}`);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

// Whether any voting member would remain with the institution's roles replaced (null: suspended).
function votersRemain(members: ReadonlyMap<string, MemberView>, id: string, roles: readonly string[] | null): boolean {
  const next = new Map(members);
  if (roles === null) next.delete(id);
  else if (next.has(id)) next.set(id, { roles });
  return votingMembers(next).length > 0;
}

function lastWriter(id: string): Rejection {
  return rejection("LAST_WRITER", `the change would leave no voting member once ${id} is changed, and governance could not act again`);
}

/**
 * The events that apply a change, or why it cannot apply now. Checked when proposed and again
 * when the deciding vote comes, since other changes may have applied in between.
 */
function changeEvents(c: Change, state: StateSlice, ctx: TxContext, config: ChainConfig, p: ProposalRecord): ContractEvent[] | Rejection {
  const base = { proposal: p.id };
  const inst = (type: string, id: string, data: { readonly [k: string]: JsonValue }): ContractEvent =>
    event(type, institutionKey(id), p.parties, { institution: id, ...data, ...base });
  const chain = (type: string, data: { readonly [k: string]: JsonValue }): ContractEvent =>
    event(type, CHAIN_CONFIG_KEY, p.parties, { ...data, ...base });
  switch (c.kind) {
    case "add-institution": {
      if (state.has(institutionKey(c.institution)))
        return rejection("INSTITUTION_EXISTS", `institution ${c.institution} is already a member`);
      const index = readStringArray(state.get(MEMBERSHIP_INDEX_KEY) ?? [], "membership index");
      if (index.length >= MEMBERS_MAX) return rejection("TOO_MANY_MEMBERS", `membership already holds ${MEMBERS_MAX} institutions`);
      const keys = c.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey }));
      const data = { id: c.institution, name: c.name, roles: [...c.roles], keys, ...base };
      return [event("InstitutionAdmitted", institutionKey(c.institution), p.parties, data)];
    }
    case "change-roles": {
      const e = entryOf(state, c.institution);
      if (e === undefined) return notFound(c.institution);
      if (sameSet(e.roles, c.roles))
        return rejection("NO_CHANGE", `institution ${c.institution} already holds the roles ${c.roles.join(", ")}`);
      if (e.suspended !== true && !votersRemain(ctx.members, c.institution, c.roles)) return lastWriter(c.institution);
      return [inst("RolesChanged", c.institution, { roles: [...c.roles] })];
    }
    case "rotate-key": {
      const e = entryOf(state, c.institution);
      if (e === undefined) return notFound(c.institution);
      const no = revokeKeyRejection(e, c.oldKeyId, true) ?? addKeyRejection(e, c.keyId, c.publicKey);
      if (no !== undefined) return no;
      return [
        inst("KeyAdded", c.institution, { keyId: c.keyId, publicKey: c.publicKey }),
        inst("KeyRevoked", c.institution, { keyId: c.oldKeyId }),
      ];
    }
    case "revoke-key": {
      const e = entryOf(state, c.institution);
      if (e === undefined) return notFound(c.institution);
      const no = revokeKeyRejection(e, c.keyId);
      return no ?? [inst("KeyRevoked", c.institution, { keyId: c.keyId })];
    }
    case "suspend-institution": {
      const e = entryOf(state, c.institution);
      if (e === undefined) return notFound(c.institution);
      if (e.suspended === true) return rejection("ALREADY_SUSPENDED", `institution ${c.institution} is already suspended`);
      if (!votersRemain(ctx.members, c.institution, null)) return lastWriter(c.institution);
      return [inst("InstitutionSuspended", c.institution, {})];
    }
    case "reinstate-institution": {
      const e = entryOf(state, c.institution);
      if (e === undefined) return notFound(c.institution);
      if (e.suspended !== true) return rejection("NOT_SUSPENDED", `institution ${c.institution} is not suspended`);
      return [inst("InstitutionReinstated", c.institution, {})];
    }
    case "add-sequencer": {
      const same = config.sequencers.find((s) => s.id === c.sequencerId || s.publicKey === c.publicKey);
      if (same !== undefined) return rejection("SEQUENCER_EXISTS", `sequencer ${same.id} already has that id or public key`);
      if (config.sequencers.length >= SEQUENCERS_MAX)
        return rejection("TOO_MANY_SEQUENCERS", `the chain already has ${SEQUENCERS_MAX} sequencers`);
      return [chain("SequencerAdded", { sequencerId: c.sequencerId, publicKey: c.publicKey })];
    }
    case "remove-sequencer": {
      if (!config.sequencers.some((s) => s.id === c.sequencerId)) return rejection("SEQUENCER_NOT_FOUND", `no sequencer ${c.sequencerId}`);
      if (config.sequencers.length === 1)
        return rejection("LAST_SEQUENCER", `sequencer ${c.sequencerId} is the last one; add another first`);
      return [chain("SequencerRemoved", { sequencerId: c.sequencerId })];
    }
    case "set-finality": {
      const f = config.finality;
      if (f.quorumNumerator === c.quorumNumerator && f.quorumDenominator === c.quorumDenominator) {
        return rejection("NO_CHANGE", `the finality quorum is already ${c.quorumNumerator}/${c.quorumDenominator}`);
      }
      return [chain("FinalityChanged", { quorumNumerator: c.quorumNumerator, quorumDenominator: c.quorumDenominator })];
    }
    case "set-governance": {
      const g = config.governance;
      if (g.thresholdNumerator === c.thresholdNumerator && g.thresholdDenominator === c.thresholdDenominator) {
        return rejection("NO_CHANGE", `the governance threshold is already ${c.thresholdNumerator}/${c.thresholdDenominator}`);
      }
      return [chain("GovernanceChanged", { thresholdNumerator: c.thresholdNumerator, thresholdDenominator: c.thresholdDenominator })];
    }
    case "set-supervision": {
      const supervision = supervisionJson(c);
      if (canonicalJson(supervision) === canonicalJson(config.supervision))
        return rejection("NO_CHANGE", "the supervision rules are already these");
      return [chain("SupervisionChanged", { supervision })];
    }
    case "deploy-contract": {
      const index = parseUserContractIndex(state.get(USER_CONTRACTS_KEY));
      const versions = index.get(c.name) ?? [];
      if (versions.some((v) => v.version === c.version))
        return rejection("VERSION_EXISTS", `${c.name} version ${c.version} is already deployed`);
      const last = versions.at(-1)?.version ?? 0;
      if (c.version !== last + 1) return rejection("VERSION_GAP", `${c.name} is at version ${last}; the next version is ${last + 1}`);
      if (userContractVersionCount(index) >= USER_CONTRACT_VERSIONS_MAX) {
        return rejection("TOO_MANY_CONTRACTS", `membership already holds ${USER_CONTRACT_VERSIONS_MAX} user contract versions`);
      }
      const data = { name: c.name, version: c.version, sha256: c.sha256, height: ctx.height.toString(), ...base };
      return [event("ContractDeployed", USER_CONTRACTS_KEY, p.parties, data)];
    }
    case "set-sandbox-limits": {
      const now = sandboxLimitsOf(config);
      // A proposal that names no BigInt cap keeps the one set before (or none, the default).
      const bits = c.maxBigIntBits ?? config.sandbox?.maxBigIntBits;
      if (
        now.stepLimit === c.stepLimit &&
        now.memoryLimitBytes === c.memoryLimitBytes &&
        now.maxBigIntBits === (bits ?? now.maxBigIntBits) &&
        config.sandbox !== undefined
      ) {
        return rejection(
          "NO_CHANGE",
          `the sandbox limits are already ${c.stepLimit} steps, ${c.memoryLimitBytes} bytes and ${now.maxBigIntBits}-bit BigInts`,
        );
      }
      const setting = {
        stepLimit: c.stepLimit,
        memoryLimitBytes: c.memoryLimitBytes,
        ...(bits === undefined ? {} : { maxBigIntBits: bits }),
      };
      return [chain("SandboxLimitsChanged", sandboxSettingJson(setting))];
    }
    default: {
      const never: never = c;
      throw new InvariantError(`unknown change kind ${(never as { kind: string }).kind}`, "CONTRACT_STATE");
    }
  }
}

/**
 * Counts the votes of `p` (already holding this transaction's vote) among the current voting
 * members and closes it when decided: applied once the yes votes reach the threshold, rejected
 * once the no votes leave too few members to reach it. Otherwise only `leading` happens.
 */
function settle(
  p: ProposalRecord,
  leading: readonly ContractEvent[],
  apply: () => ContractEvent[] | Rejection,
  ctx: TxContext,
  config: ChainConfig,
): readonly ContractEvent[] | Rejection {
  const voters = votingMembers(ctx.members);
  const yes = p.yes.filter((v) => voters.includes(v));
  const no = p.no.filter((v) => voters.includes(v));
  const needed = votesNeeded(config.governance, voters.length);
  const tally = { proposal: p.id, closedAtMs: ctx.blockTimeMs, yes, no, voters: voters.length, needed };
  if (yes.length >= needed) {
    const changes = apply();
    if (isRejection(changes)) return changes;
    return [...leading, ...changes, event("ProposalApplied", proposalKey(p.id), p.parties, tally)];
  }
  if (voters.length - no.length < needed) return [...leading, event("ProposalRejected", proposalKey(p.id), p.parties, tally)];
  return leading;
}

/**
 * Decides a proposal. Rejections: PROPOSAL_EXISTS, EXPIRY_IN_PAST, EXPIRY_TOO_FAR, and whatever
 * the change itself meets (INSTITUTION_EXISTS, KEY_NOT_FOUND, NO_CHANGE...). The proposer's
 * proposal is its yes vote, so with few enough voters it applies at once.
 */
export function decidePropose(cmd: ProposeCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  if (state.has(proposalKey(cmd.id))) return rejection("PROPOSAL_EXISTS", `proposal ${cmd.id} already exists`);
  if (cmd.expiresAtMs <= ctx.blockTimeMs) {
    return rejection(
      "EXPIRY_IN_PAST",
      `proposal ${cmd.id} would expire at ${cmd.expiresAtMs}, not after the block time ${ctx.blockTimeMs}`,
    );
  }
  if (cmd.expiresAtMs - ctx.blockTimeMs > PROPOSAL_TTL_MAX_MS) {
    return rejection(
      "EXPIRY_TOO_FAR",
      `proposal ${cmd.id} would stay open ${cmd.expiresAtMs - ctx.blockTimeMs} ms, more than ${PROPOSAL_TTL_MAX_MS}`,
    );
  }
  const config = mustConfig(state);
  const institution = changeInstitution(cmd.change);
  const p: ProposalRecord = {
    id: cmd.id,
    proposer: ctx.signer,
    change: cmd.change,
    institution,
    createdAtMs: ctx.blockTimeMs,
    expiresAtMs: cmd.expiresAtMs,
    status: "open",
    yes: [ctx.signer],
    no: [],
    closedAtMs: null,
    parties: sortedIds([...ctx.members.keys(), ...(institution === null ? [] : [institution])]),
  };
  // A contract's code comes with its proposal, and only then: the stored proposal names it by hash.
  if (cmd.change.kind === "deploy-contract" && cmd.change.code === undefined) {
    return rejection("BAD_ARGS", "change.code is required to propose a contract");
  }
  const changes = changeEvents(cmd.change, state, ctx, config, p);
  if (isRejection(changes)) return changes;
  const created = event("ProposalCreated", proposalKey(p.id), p.parties, {
    id: p.id,
    proposer: p.proposer,
    change: changeJson(p.change),
    institution,
    createdAtMs: p.createdAtMs,
    expiresAtMs: p.expiresAtMs,
  });
  const leading = [created];
  if (cmd.change.kind === "deploy-contract" && cmd.change.code !== undefined) {
    const { sha256, code } = cmd.change;
    leading.push(event("CodeStored", userCodeKey(sha256), p.parties, { sha256, code, proposal: p.id }));
  }
  return settle(p, leading, () => changes, ctx, config);
}

/**
 * Decides a vote. Rejections: PROPOSAL_NOT_FOUND, PROPOSAL_APPLIED, PROPOSAL_REJECTED,
 * PROPOSAL_EXPIRED (block time past expiresAtMs), PROPOSAL_SUBJECT_MISMATCH (institution is not the
 * one the proposal changes), ALREADY_VOTED; and, for the deciding vote, whatever the change meets
 * now (the vote is then not recorded and the proposal stays open).
 */
export function decideVote(cmd: VoteCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  const v = state.get(proposalKey(cmd.proposal));
  if (v === undefined) return rejection("PROPOSAL_NOT_FOUND", `no proposal ${cmd.proposal}`);
  const p = parseProposal(v);
  if (p.status === "applied") return rejection("PROPOSAL_APPLIED", `proposal ${p.id} was applied at ${String(p.closedAtMs)}`);
  if (p.status === "rejected") return rejection("PROPOSAL_REJECTED", `proposal ${p.id} was rejected at ${String(p.closedAtMs)}`);
  if (ctx.blockTimeMs > p.expiresAtMs) {
    return rejection("PROPOSAL_EXPIRED", `proposal ${p.id} expired at ${p.expiresAtMs}, before the block time ${ctx.blockTimeMs}`);
  }
  if ((cmd.institution ?? null) !== p.institution) {
    return rejection(
      "PROPOSAL_SUBJECT_MISMATCH",
      p.institution === null
        ? `proposal ${p.id} changes the chain config; a vote on it names no institution`
        : `proposal ${p.id} changes institution ${p.institution}; the vote must name it as institution`,
    );
  }
  const voter = ctx.signer;
  if (p.yes.includes(voter) || p.no.includes(voter)) return rejection("ALREADY_VOTED", `${voter} already voted on proposal ${p.id}`);
  const after: ProposalRecord = {
    ...p,
    yes: cmd.vote === "yes" ? sortedIds([...p.yes, voter]) : p.yes,
    no: cmd.vote === "no" ? sortedIds([...p.no, voter]) : p.no,
  };
  const cast = event("VoteCast", proposalKey(p.id), p.parties, { proposal: p.id, voter, vote: cmd.vote });
  const config = mustConfig(state);
  return settle(after, [cast], () => changeEvents(p.change, state, ctx, config, p), ctx, config);
}
