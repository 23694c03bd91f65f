// What the typed contract helpers build on: a client that signs one contract action. The helpers
// turn typed args (amounts as bigint) into the wire args (amounts as decimal strings) and check
// them with the contract's own parser before signing, so a bad field fails here, named, rather
// than as BAD_ARGS from the gateway.
import { status } from "@grpc/grpc-js";
import { builtinContracts, isRejection } from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { TallyError } from "../tally-error.js";
import type { SignedTransaction, TxOptions } from "../transaction.js";

/** Args as they travel: a JSON object, amounts as decimal strings of minor units. */
export type WireArgs = { readonly [k: string]: JsonValue | undefined };

/** Signs contract actions; TallyClient is one. */
export interface ActionSigner {
  /** The institution whose key signs the body. */
  readonly institutionId: string;
  /** Builds and signs one action with wire args. */
  build(contract: string, action: string, args: unknown, o?: TxOptions): SignedTransaction;
}

/** Runs a contract query; TallyClient is one. */
export interface QueryRunner {
  query<T = unknown>(contract: string, query: string, args?: unknown): Promise<{ result: T; height: bigint }>;
}

/**
 * Checks wire args with the builtin contract's parser, then signs. A rejection is thrown as a
 * TallyError INVALID_ARGUMENT with the contract's reason code (BAD_ARGS, UNKNOWN_ROLE).
 */
export function signAction(signer: ActionSigner, contract: string, action: string, args: WireArgs, o?: TxOptions): SignedTransaction {
  const wire = dropUndefined(args);
  const spec = builtinContracts.get(contract)?.actions[action];
  if (spec === undefined) throw new TallyError(status.INVALID_ARGUMENT, "UNKNOWN_ACTION", `no builtin action ${contract}.${action}`);
  const parsed = spec.parse(wire);
  if (isRejection(parsed)) throw new TallyError(status.INVALID_ARGUMENT, parsed.code, `${contract}.${action}: ${parsed.message}`);
  return signer.build(contract, action, wire, o);
}

function dropUndefined(args: WireArgs): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k] = v;
  return out;
}

/** An amount on the wire: a bigint as its decimal string. */
export function wireAmount(v: bigint): string {
  return v.toString();
}
