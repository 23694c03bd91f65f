// `tally bench --fuzz [--cases N] [--seed S]`: the seeded SignedTx fuzz loop at benchmark size
// (100k cases by default), with the generator the gateway's test uses (@tally/testkit). Each
// input goes through the decoder and the admission checks the gateway is built from (chain and
// deadline, keys and signatures, contract, action, role and args); every one must end in a
// stable reason code or be admitted, never throw. The gRPC mapping of those reasons is the
// gateway's own test.
import {
  builtinContracts,
  foldEvents,
  isRejection,
  MEMBERSHIP_CONTRACT,
  membershipGenesisEvents,
  membershipView,
  prepareCommand,
} from "@tally/contracts";
import {
  checkTxContext,
  decodeSignedTx,
  signingKeyFromSeed,
  signTx,
  toHex,
  utf8,
  verifyTxSignatures,
  type Genesis,
  type JsonValue,
} from "@tally/ledger";
import { signedTxFuzzInputs } from "@tally/testkit";

/** One fuzz run. */
export interface FuzzBenchResult {
  kind: "fuzz";
  seed: number;
  cases: number;
  seconds: number;
  cases_per_s: number;
  /** Outcomes by reason code ("ADMITTED" for inputs that pass every check). */
  outcomes: Record<string, number>;
  /** Inputs that threw instead of answering a reason: must be 0. */
  crashes: number;
  first_crash?: string;
}

const CHAIN_ID = "tally-fuzz";

/** Runs `cases` inputs from the seeded generator through decoding and admission. */
export function runFuzzBench(cases: number, seed: number): FuzzBenchResult {
  const key = signingKeyFromSeed(new Uint8Array(32).fill(7));
  const genesis: Genesis = {
    chainId: CHAIN_ID,
    genesisTimeMs: 1_700_000_000_000,
    institutions: ["bank-a", "bank-b"].map((id) => ({
      id,
      name: id,
      roles: ["bank"],
      keys: [{ keyId: "k1", publicKey: toHex(key.publicKey) }],
    })),
    sequencers: [],
    validators: [],
    finality: { quorumNumerator: 2, quorumDenominator: 3 },
  };
  const updates = foldEvents(builtinContracts.get(MEMBERSHIP_CONTRACT)!, new Map(), membershipGenesisEvents(genesis));
  const view = membershipView([...updates.values()].filter((v): v is JsonValue => v !== null));
  const now = Date.now();
  const seeds = [
    { to: "bank-b", amount: "100" },
    { to: "bank-b", amount: "5", memo: "x".repeat(200) },
  ].map(
    (args, n) =>
      signTx(
        {
          chainId: CHAIN_ID,
          contract: "cash",
          action: "transfer",
          args: utf8(JSON.stringify(args)),
          signer: { institutionId: "bank-a", keyId: "k1" },
          nonce: BigInt(n + 1),
          validUntilMs: BigInt(now + 60_000),
        },
        [{ institutionId: "bank-a", keyId: "k1", key }],
      ).raw,
  );
  const outcomes: Record<string, number> = {};
  const count = (reason: string): void => void (outcomes[reason] = (outcomes[reason] ?? 0) + 1);
  let crashes = 0;
  let firstCrash: string | undefined;
  const t0 = performance.now();
  let i = 0;
  for (const input of signedTxFuzzInputs(seed, cases, seeds)) {
    try {
      const d = decodeSignedTx(input);
      if (!d.ok) {
        count(d.code);
        continue;
      }
      const ctx = checkTxContext(d.tx, CHAIN_ID, now);
      if (!ctx.ok) {
        count(ctx.code);
        continue;
      }
      const sigs = verifyTxSignatures(d.tx, view.keyLookup);
      if (!sigs.ok) {
        count(sigs.code);
        continue;
      }
      const p = prepareCommand(builtinContracts, d.tx.body.contract, d.tx.body.action, d.tx.args, {
        chainId: CHAIN_ID,
        txId: d.tx.idHex,
        height: 0n,
        blockTimeMs: now,
        signer: sigs.signers[0]!,
        signers: sigs.signers,
        members: view.members,
      });
      count(isRejection(p) ? p.code : "ADMITTED");
    } catch (e) {
      crashes++;
      firstCrash ??= `case ${i} (seed ${seed}): ${(e as Error).stack ?? String(e)}`;
    } finally {
      i++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    kind: "fuzz",
    seed,
    cases,
    seconds: Math.round(seconds * 1000) / 1000,
    cases_per_s: Math.round(cases / seconds),
    outcomes,
    crashes,
    ...(firstCrash !== undefined ? { first_crash: firstCrash } : {}),
  };
}
