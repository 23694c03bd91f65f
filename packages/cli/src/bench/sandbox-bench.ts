// `tally bench --sandbox`: the cost of the user contract sandbox. The same transfer logic runs as
// the built-in cash contract and as a user contract in the QuickJS sandbox, each through the run
// pipeline the executor uses (prepareCommand, runCommand) over an in-memory state; the sandbox
// starts a fresh instance every --block-size calls, as the executor does every block. Reports
// calls/s for both and their ratio (target: the user contract at 25% of the built-in or more).
import {
  builtinContracts,
  CASH_CONTRACT,
  accountKey,
  isRejection,
  prepareCommand,
  runCommand,
  codeHash,
  userCodeJson,
  userCodeKey,
  userContractIndexJson,
  USER_CONTRACTS_KEY,
  CHAIN_CONFIG_KEY,
  type Contract,
  type MemberView,
  type TxContext,
} from "@tally/contracts";
import type { JsonValue } from "@tally/ledger";
import { UserContractRegistry } from "@tally/user-contracts";

/** The user contract the bench runs: cash's transfer, written as a user contract. */
export const TRANSFER_CONTRACT = `
const acct = (id) => "acct/" + id;
const balance = (state, id) => BigInt(state[acct(id)] === undefined ? "0" : state[acct(id)].balance);
module.exports = {
  actions: {
    transfer: {
      roles: ["bank", "clearing"],
      args: { to: "identifier", amount: "amount", memo: "string?" },
      // The keys as data: the host fills them in, without a sandbox call.
      keys: ["acct/{signer}", "acct/{args.to}"],
    },
  },
  queries: {},
  decide(command, state, ctx) {
    const { to, amount, memo } = command.args;
    const from = ctx.signer;
    if (to === from) return { reject: { code: "SELF_TRANSFER", message: from + " cannot transfer to itself" } };
    if (!(to in ctx.members)) return { reject: { code: "UNKNOWN_ACCOUNT", message: to + " is not a member" } };
    const have = balance(state, from);
    if (have < BigInt(amount)) return { reject: { code: "INSUFFICIENT_FUNDS", message: from + " holds " + have } };
    return [{ type: "Transferred", assetId: acct(from), parties: [from, to], data: { from, to, amount, memo: memo === undefined ? null : memo } }];
  },
  evolve(state, event) {
    const { from, to, amount } = event.data;
    return {
      [acct(from)]: { balance: (balance(state, from) - BigInt(amount)).toString() },
      [acct(to)]: { balance: (balance(state, to) + BigInt(amount)).toString() },
    };
  },
};`;

/** One side's figures. */
export interface SandboxBenchSide {
  readonly calls: number;
  readonly seconds: number;
  readonly calls_per_s: number;
  readonly committed: number;
}

/** The report. */
export interface SandboxBenchResult {
  readonly builtin: SandboxBenchSide;
  readonly sandbox: SandboxBenchSide;
  /** sandbox calls/s over built-in calls/s. */
  readonly ratio: number;
  readonly target_ratio: number;
  readonly block_size: number;
  readonly parties: number;
}

const PARTIES = 16;

function members(): ReadonlyMap<string, MemberView> {
  const m = new Map<string, MemberView>();
  for (let i = 0; i < PARTIES; i++) m.set(`bank-${i}`, { roles: ["bank"] });
  return m;
}

// Transfers of 1 around a ring of funded parties, for `seconds`; calls beginBlock every blockSize calls.
async function measure(
  contracts: ReadonlyMap<string, Contract>,
  name: string,
  seconds: number,
  blockSize: number,
  beginBlock: (() => Promise<void>) | undefined,
): Promise<SandboxBenchSide> {
  const m = members();
  const state = new Map<string, JsonValue>();
  for (const id of m.keys()) state.set(accountKey(id), { balance: "1000000000000" });
  let calls = 0;
  let committed = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    if (beginBlock !== undefined) await beginBlock();
    for (let b = 0; b < blockSize; b++, calls++) {
      const from = `bank-${calls % PARTIES}`;
      const to = `bank-${(calls + 1) % PARTIES}`;
      const ctx: TxContext = {
        chainId: "bench",
        txId: calls.toString(16).padStart(64, "0"),
        height: BigInt(1 + Math.floor(calls / blockSize)),
        blockTimeMs: 1_700_000_000_000,
        signer: from,
        signers: [from],
        members: m,
      };
      const p = prepareCommand(contracts, name, "transfer", { to, amount: "1" }, ctx);
      if (isRejection(p)) throw new Error(`${name}: ${p.code}: ${p.message}`);
      const slice = new Map<string, JsonValue>();
      for (const k of p.keys) {
        const v = state.get(k);
        if (v !== undefined) slice.set(k, v);
      }
      const r = runCommand(p, slice, ctx);
      if (isRejection(r)) continue;
      committed++;
      for (const [k, v] of r.updates) if (v !== null) state.set(k, v);
    }
  }
  const elapsed = (performance.now() - start) / 1000;
  return { calls, seconds: elapsed, calls_per_s: calls / elapsed, committed };
}

/** Runs both sides for `seconds` each. */
export async function runSandboxBench(o: { seconds: number; blockSize: number }): Promise<SandboxBenchResult> {
  const registry = await UserContractRegistry.create();
  try {
    const hash = codeHash(TRANSFER_CONTRACT);
    const membership = new Map<string, JsonValue>([
      [userCodeKey(hash), userCodeJson(hash, TRANSFER_CONTRACT)],
      [USER_CONTRACTS_KEY, userContractIndexJson(new Map([["xfer", [{ version: 1, sha256: hash, proposal: "bench", height: "1" }]]]))],
      [
        CHAIN_CONFIG_KEY,
        {
          record: "chain-config",
          sequencers: [],
          finality: { quorumNumerator: 2, quorumDenominator: 3 },
          governance: { thresholdNumerator: 2, thresholdDenominator: 3 },
          supervision: null,
        },
      ],
    ]);
    const contracts = await registry.contractsFor(membership, builtinContracts);
    const builtin = await measure(builtinContracts, CASH_CONTRACT, o.seconds, o.blockSize, undefined);
    const sandbox = await measure(contracts, "xfer", o.seconds, o.blockSize, () => registry.host.beginBlock());
    return {
      builtin,
      sandbox,
      ratio: sandbox.calls_per_s / builtin.calls_per_s,
      target_ratio: 0.25,
      block_size: o.blockSize,
      parties: PARTIES,
    };
  } finally {
    registry.host.dispose();
  }
}
