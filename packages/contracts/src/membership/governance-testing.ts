// A small driver for governance tests: a membership log that each accepted command extends, run
// with the members the state itself yields (as the executor does). Test-only; not exported from
// the package index.
import type { Genesis, JsonValue } from "@tally/ledger";
import { isRejection, type ContractEvent, type Rejection } from "../contract.js";
import { given, type Then } from "../testing/given-when-then.js";
import { TEST_GENESIS } from "../testing/test-genesis.js";
import { membershipGenesisEvents } from "./genesis-events.js";
import { membersFromMembership } from "./membership-view.js";

/** The block time governance tests run at unless told otherwise. */
export const NOW_MS = 1_700_000_123_456;

/** One day in ms, for expiries. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** The voting members of TEST_GENESIS, sorted: everyone but the regulator. */
export const TEST_VOTERS = TEST_GENESIS.institutions
  .filter((i) => !i.roles.every((r) => r === "regulator"))
  .map((i) => i.id)
  .sort();

/** A membership chain under test. */
export interface GovernanceChain {
  readonly events: readonly ContractEvent[];
  readonly state: ReadonlyMap<string, JsonValue>;
  /** Runs a membership command with the members the state yields; an accepted one extends the log. */
  act(signer: string, action: string, args: unknown, blockTimeMs?: number): Then | Rejection;
  query(name: string, args: unknown): JsonValue | Rejection;
  /** Proposes (signed by voters[0]) and votes yes with the other voters, in order; returns every outcome. */
  pass(id: string, change: JsonValue, voters: readonly string[], blockTimeMs?: number): (Then | Rejection)[];
}

/** A chain started from a genesis (TEST_GENESIS by default) and, optionally, further events. */
export function governanceChain(genesis: Genesis = TEST_GENESIS, extra: readonly ContractEvent[] = []): GovernanceChain {
  const log: ContractEvent[] = [...membershipGenesisEvents(genesis), ...extra];
  const now = () => given("membership", log);
  const chain: GovernanceChain = {
    get events() {
      return log;
    },
    get state() {
      return now().state;
    },
    act(signer, action, args, blockTimeMs = NOW_MS) {
      const g = now();
      const members = membersFromMembership(g.state.values());
      const r = g.when({ signer, action, args, ctx: { blockTimeMs, members } });
      if (!isRejection(r)) log.push(...r.events);
      return r;
    },
    query: (name, args) => now().query(name, args),
    pass(id, change, voters, blockTimeMs = NOW_MS) {
      const [proposer, ...rest] = voters;
      if (proposer === undefined) throw new Error("pass needs a proposer");
      const institution = typeof change === "object" && change !== null && !Array.isArray(change) ? change.institution : undefined;
      const out = [chain.act(proposer, "propose", { id, expiresAtMs: blockTimeMs + DAY_MS, change }, blockTimeMs)];
      for (const v of rest) {
        out.push(
          chain.act(v, "vote", { proposal: id, vote: "yes", ...(typeof institution === "string" ? { institution } : {}) }, blockTimeMs),
        );
      }
      return out;
    },
  };
  return chain;
}

/** Event types of an outcome, or its rejection code. */
export function outcomeTypes(r: Then | Rejection): string[] | string {
  return isRejection(r) ? r.code : r.events.map((e) => e.type);
}
