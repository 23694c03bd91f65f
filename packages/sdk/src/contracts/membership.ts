// Typed builders for the membership contract's actions (packages/contracts/src/membership/membership.ts,
// proposal-change.ts).
import type { JsonValue } from "@tally/ledger";
import type { SignedTransaction, TxOptions } from "../transaction.js";
import { signAction, wireAmount, type ActionSigner } from "./action-builder.js";

/** A key as a proposal names it: an id and a raw Ed25519 public key in lowercase hex. */
export interface MembershipKey {
  readonly keyId: string;
  readonly publicKey: string;
}

/** A supervision alert rule: trades on `contract` (and `action`) of at least minAmount raise an alert. */
export interface AlertRule {
  readonly id: string;
  readonly contract: string;
  readonly action?: string;
  readonly minAmount: bigint;
}

/** What a governance proposal changes: one of eleven kinds. */
export type MembershipChange =
  | {
      readonly kind: "add-institution";
      readonly institution: string;
      /** At most 200 characters. */
      readonly name: string;
      readonly roles: readonly string[];
      /** 1 to 8 keys. */
      readonly keys: readonly MembershipKey[];
    }
  | { readonly kind: "change-roles"; readonly institution: string; readonly roles: readonly string[] }
  | {
      readonly kind: "rotate-key";
      readonly institution: string;
      readonly oldKeyId: string;
      readonly keyId: string;
      readonly publicKey: string;
    }
  | { readonly kind: "revoke-key"; readonly institution: string; readonly keyId: string }
  | { readonly kind: "suspend-institution"; readonly institution: string }
  | { readonly kind: "reinstate-institution"; readonly institution: string }
  | { readonly kind: "add-sequencer"; readonly sequencerId: string; readonly publicKey: string }
  | { readonly kind: "remove-sequencer"; readonly sequencerId: string }
  | { readonly kind: "set-finality"; readonly quorumNumerator: number; readonly quorumDenominator: number }
  | { readonly kind: "set-governance"; readonly thresholdNumerator: number; readonly thresholdDenominator: number }
  | ({ readonly kind: "set-supervision"; readonly largeTradeAmount: bigint; readonly alertRules: readonly AlertRule[] } & SupervisionRules);

/** The optional supervision rules of a set-supervision change; an absent rule is off. */
export interface SupervisionRules {
  /** Funds that come back to their sender within windowBlocks blocks. */
  readonly roundTrip?: { readonly windowBlocks: number };
  /** One party holding more than maxShareBp basis points of an asset type. */
  readonly concentration?: { readonly maxShareBp: number };
  /** An institution's rejected attempts: count within windowBlocks (of these reason codes, or any). */
  readonly rejectedAttempts?: { readonly count: number; readonly windowBlocks: number; readonly reasonCodes?: readonly string[] };
  /** Alert on every dishonoured bill. */
  readonly dishonouredBills?: boolean;
  /** Alert when a validator's state root differs from the quorum's. */
  readonly divergence?: boolean;
}

/** membership.add-key: an institution adds a key of its own. */
export interface MembershipAddKeyArgs {
  readonly keyId: string;
  /** Raw Ed25519 public key, 64 lowercase hex characters. */
  readonly publicKey: string;
}

/** membership.revoke-key: an institution revokes a key of its own. */
export interface MembershipRevokeKeyArgs {
  readonly keyId: string;
}

/** membership.propose: a voting member proposes a change; its proposal counts as its yes. */
export interface MembershipProposeArgs {
  readonly id: string;
  /** Unix milliseconds, at most 30 days after the block. */
  readonly expiresAtMs: number;
  readonly change: MembershipChange;
}

/** membership.vote: a voting member votes on an open proposal. */
export interface MembershipVoteArgs {
  readonly proposal: string;
  readonly vote: "yes" | "no";
  /** The institution the proposal changes, restated so the vote's keys name its entry; omit for chain-config changes. */
  readonly institution?: string;
}

function changeArgs(c: MembershipChange): { [k: string]: JsonValue } {
  switch (c.kind) {
    case "add-institution":
      return {
        kind: c.kind,
        institution: c.institution,
        name: c.name,
        roles: [...c.roles],
        keys: c.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })),
      };
    case "change-roles":
      return { kind: c.kind, institution: c.institution, roles: [...c.roles] };
    case "set-supervision":
      return {
        kind: c.kind,
        ...(c.roundTrip === undefined ? {} : { roundTrip: { windowBlocks: c.roundTrip.windowBlocks } }),
        ...(c.concentration === undefined ? {} : { concentration: { maxShareBp: c.concentration.maxShareBp } }),
        ...(c.rejectedAttempts === undefined
          ? {}
          : {
              rejectedAttempts: {
                count: c.rejectedAttempts.count,
                windowBlocks: c.rejectedAttempts.windowBlocks,
                ...(c.rejectedAttempts.reasonCodes === undefined ? {} : { reasonCodes: [...c.rejectedAttempts.reasonCodes] }),
              },
            }),
        ...(c.dishonouredBills === undefined ? {} : { dishonouredBills: c.dishonouredBills }),
        ...(c.divergence === undefined ? {} : { divergence: c.divergence }),
        largeTradeAmount: wireAmount(c.largeTradeAmount),
        alertRules: c.alertRules.map((r) => ({
          id: r.id,
          contract: r.contract,
          ...(r.action === undefined ? {} : { action: r.action }),
          minAmount: wireAmount(r.minAmount),
        })),
      };
    case "rotate-key":
      return { kind: c.kind, institution: c.institution, oldKeyId: c.oldKeyId, keyId: c.keyId, publicKey: c.publicKey };
    case "revoke-key":
      return { kind: c.kind, institution: c.institution, keyId: c.keyId };
    case "suspend-institution":
    case "reinstate-institution":
      return { kind: c.kind, institution: c.institution };
    case "add-sequencer":
      return { kind: c.kind, sequencerId: c.sequencerId, publicKey: c.publicKey };
    case "remove-sequencer":
      return { kind: c.kind, sequencerId: c.sequencerId };
    case "set-finality":
      return { kind: c.kind, quorumNumerator: c.quorumNumerator, quorumDenominator: c.quorumDenominator };
    case "set-governance":
      return { kind: c.kind, thresholdNumerator: c.thresholdNumerator, thresholdDenominator: c.thresholdDenominator };
    default: {
      const never: never = c;
      throw new Error(`unknown change kind ${(never as { kind: string }).kind}`);
    }
  }
}

/** The membership contract's actions. */
export class MembershipActions {
  constructor(private readonly signer: ActionSigner) {}

  /** Adds one of the signer's own keys (any member). */
  addKey(a: MembershipAddKeyArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "membership", "add-key", { keyId: a.keyId, publicKey: a.publicKey }, o);
  }

  /** Revokes one of the signer's own keys (any member). */
  revokeKey(a: MembershipRevokeKeyArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "membership", "revoke-key", { keyId: a.keyId }, o);
  }

  /** Proposes a change (writer roles). */
  propose(a: MembershipProposeArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "membership", "propose", { id: a.id, expiresAtMs: a.expiresAtMs, change: changeArgs(a.change) }, o);
  }

  /** Votes on a proposal (writer roles). */
  vote(a: MembershipVoteArgs, o?: TxOptions): SignedTransaction {
    return signAction(this.signer, "membership", "vote", { proposal: a.proposal, vote: a.vote, institution: a.institution }, o);
  }
}
