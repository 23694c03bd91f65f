// Charity and public welfare (SCENARIOS.md §11). An organiser opens a project with milestones, each
// an amount for a named beneficiary, and names an auditor (a member with the auditor role).
// - donate: a donor gives cash; it moves into the project's escrow account in the same act. A
//   project raises at most the sum of its milestones (TARGET_EXCEEDED), so everything it holds
//   has somewhere to go.
// - attest: the project's auditor attests a milestone reached, with the hash of its report.
// - disburse: the organiser pays a milestone's amount from escrow to its beneficiary, only once
//   the auditor has attested it (NOT_ATTESTED), once, and only from what the project holds.
// Money leaves first-in first-out, so `trace` follows any donation to the beneficiaries it reached
// (and what is still held), and the public `summary` shows raised, disbursed and held.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { BALANCE_MAX, CASH_CONTRACT, accountKey, cashAccountKey, cashBalanceIn, cashLegs } from "../cash/cash.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { WRITER_ROLES } from "../roles.js";
import { arrayOf, hex32, identifier, integer, objectOf, parseArgs, positiveAmount, requiredString, type Args } from "../schema.js";
import { readDecimal, readInteger, readObject, readString } from "../state-read.js";
import { holdsRole, partiesOf } from "../supply/supply-fields.js";
import {
  CHARITY_CONTRACT,
  MILESTONES_MAX,
  TITLE_LENGTH_MAX,
  donationIn,
  donationKey,
  donationValue,
  escrowAccountKey,
  escrowHolder,
  projectIn,
  projectKey,
  projectValue,
  trace,
  type Project,
} from "./charity-state.js";

/** A milestone as the organiser states it. */
export interface MilestoneArgs {
  readonly description: string;
  readonly amount: bigint;
  readonly beneficiary: string;
}

/** A charity command, one per action. */
export type CharityCommand =
  | {
      readonly action: "open";
      readonly id: string;
      readonly title: string;
      readonly auditor: string;
      readonly milestones: readonly MilestoneArgs[];
    }
  | { readonly action: "donate"; readonly project: string; readonly donation: string; readonly amount: bigint }
  | { readonly action: "attest"; readonly project: string; readonly milestone: number; readonly evidence: string }
  | { readonly action: "disburse"; readonly project: string; readonly milestone: number; readonly beneficiary: string };

const milestoneNumber = integer(1, MILESTONES_MAX);

const parsers = {
  open: (args: Args): CharityCommand | Rejection => {
    const milestone = objectOf({ description: requiredString(TITLE_LENGTH_MAX), amount: positiveAmount, beneficiary: identifier });
    const a = parseArgs(args, {
      id: identifier,
      title: requiredString(TITLE_LENGTH_MAX),
      auditor: identifier,
      milestones: arrayOf(milestone, MILESTONES_MAX),
    });
    return isRejection(a) ? a : { action: "open", ...a };
  },
  donate: (args: Args): CharityCommand | Rejection => {
    const a = parseArgs(args, { project: identifier, donation: identifier, amount: positiveAmount });
    return isRejection(a) ? a : { action: "donate", ...a };
  },
  attest: (args: Args): CharityCommand | Rejection => {
    const a = parseArgs(args, { project: identifier, milestone: milestoneNumber, evidence: hex32 });
    return isRejection(a) ? a : { action: "attest", ...a };
  },
  disburse: (args: Args): CharityCommand | Rejection => {
    const a = parseArgs(args, { project: identifier, milestone: milestoneNumber, beneficiary: identifier });
    return isRejection(a) ? a : { action: "disburse", ...a };
  },
} as const;

type Events = readonly ContractEvent[] | Rejection;

function unknownCommand(cmd: never): never {
  throw new InvariantError(`unknown charity command ${(cmd as { action: string }).action}`, "CONTRACT_STATE");
}

function loadedProject(state: StateSlice, id: string): Project | Rejection {
  return projectIn(state, id) ?? rejection("UNKNOWN_PROJECT", `there is no charity project ${id}`);
}

function projectEvent(type: string, p: Project, data: { readonly [k: string]: JsonValue }): ContractEvent {
  return { type, assetId: projectKey(p.id), parties: [...p.parties], data: { project: p.id, ...data } };
}

function decideOpen(cmd: Extract<CharityCommand, { action: "open" }>, state: StateSlice, ctx: TxContext): Events {
  if (state.has(projectKey(cmd.id))) return rejection("PROJECT_EXISTS", `charity project ${cmd.id} already exists`);
  if (!ctx.members.has(cmd.auditor)) return rejection("UNKNOWN_MEMBER", `auditor ${cmd.auditor} is not a member`);
  if (!holdsRole(ctx, cmd.auditor, "auditor")) return rejection("INELIGIBLE_PARTY", `${cmd.auditor} does not hold the auditor role`);
  if (cmd.auditor === ctx.signer) return rejection("SAME_PARTY", `${ctx.signer} cannot audit its own project`);
  for (const m of cmd.milestones) {
    if (!ctx.members.has(m.beneficiary)) return rejection("UNKNOWN_MEMBER", `beneficiary ${m.beneficiary} is not a member`);
  }
  const target = cmd.milestones.reduce((a, m) => a + m.amount, 0n);
  if (target > BALANCE_MAX)
    return rejection("TARGET_TOO_LARGE", `the milestones of project ${cmd.id} sum to ${target}, above ${BALANCE_MAX}`);
  const milestones = cmd.milestones.map((m) => ({ description: m.description, amount: m.amount.toString(), beneficiary: m.beneficiary }));
  const data = { project: cmd.id, title: cmd.title, organiser: ctx.signer, auditor: cmd.auditor, milestones, atMs: ctx.blockTimeMs };
  const parties = partiesOf(ctx.signer, cmd.auditor, ...cmd.milestones.map((m) => m.beneficiary));
  return [{ type: "ProjectOpened", assetId: projectKey(cmd.id), parties, data }];
}

function decideDonate(cmd: Extract<CharityCommand, { action: "donate" }>, state: StateSlice, ctx: TxContext): Events {
  const p = loadedProject(state, cmd.project);
  if (isRejection(p)) return p;
  const donor = ctx.signer;
  if (state.has(donationKey(p.id, cmd.donation))) return rejection("DONATION_EXISTS", `donation ${cmd.donation} to ${p.id} already exists`);
  if (p.raised + cmd.amount > p.target) {
    return rejection("TARGET_EXCEEDED", `project ${p.id} has raised ${p.raised} of its ${p.target}; ${cmd.amount} more would exceed it`);
  }
  const have = cashBalanceIn(state, donor);
  if (have < cmd.amount) return rejection("INSUFFICIENT_FUNDS", `${donor} holds ${have}, less than ${cmd.amount}`);
  const holder = escrowHolder(p.id);
  if (cashBalanceIn(state, holder) !== p.raised - p.disbursed) {
    throw new InvariantError(`escrow of project ${p.id} does not hold ${p.raised - p.disbursed}`, "CONTRACT_STATE");
  }
  // The cash ledger's transfer into the escrow account, which cashLegs refuses as no member's.
  const leg: ContractEvent = {
    contract: CASH_CONTRACT,
    type: "CashTransferred",
    assetId: accountKey(donor),
    parties: partiesOf(donor, p.organiser),
    data: { from: donor, to: holder, amount: cmd.amount.toString(), memo: `donation ${cmd.donation} to project ${p.id}` },
  };
  const data = { donation: cmd.donation, donor, amount: cmd.amount.toString(), start: p.raised.toString(), atMs: ctx.blockTimeMs };
  return [
    {
      type: "DonationReceived",
      assetId: donationKey(p.id, cmd.donation),
      parties: partiesOf(donor, p.organiser, p.auditor),
      data: { project: p.id, ...data },
    },
    leg,
  ];
}

function milestoneOf(p: Project, n: number): Project["milestones"][number] | Rejection {
  return p.milestones[n - 1] ?? rejection("UNKNOWN_MILESTONE", `project ${p.id} has ${p.milestones.length} milestones, not ${n}`);
}

function decide(cmd: CharityCommand, state: StateSlice, ctx: TxContext): Events {
  switch (cmd.action) {
    case "open":
      return decideOpen(cmd, state, ctx);
    case "donate":
      return decideDonate(cmd, state, ctx);
    case "attest": {
      const p = loadedProject(state, cmd.project);
      if (isRejection(p)) return p;
      if (ctx.signer !== p.auditor) return rejection("NOT_AUDITOR", `${ctx.signer} is not the auditor of project ${p.id}; ${p.auditor} is`);
      const m = milestoneOf(p, cmd.milestone);
      if (isRejection(m)) return m;
      if (m.attestedAtMs !== null)
        return rejection("ALREADY_ATTESTED", `milestone ${cmd.milestone} of project ${p.id} was attested at ${m.attestedAtMs}`);
      return [
        projectEvent("MilestoneAttested", p, {
          milestone: cmd.milestone,
          auditor: ctx.signer,
          evidence: cmd.evidence,
          atMs: ctx.blockTimeMs,
        }),
      ];
    }
    case "disburse": {
      const p = loadedProject(state, cmd.project);
      if (isRejection(p)) return p;
      if (ctx.signer !== p.organiser)
        return rejection("NOT_ORGANISER", `${ctx.signer} is not the organiser of project ${p.id}; ${p.organiser} is`);
      const m = milestoneOf(p, cmd.milestone);
      if (isRejection(m)) return m;
      if (m.beneficiary !== cmd.beneficiary) {
        return rejection("PARTY_MISMATCH", `milestone ${cmd.milestone} of project ${p.id} pays ${m.beneficiary}, not ${cmd.beneficiary}`);
      }
      if (m.attestedAtMs === null) {
        return rejection("NOT_ATTESTED", `milestone ${cmd.milestone} of project ${p.id} has not been attested by its auditor ${p.auditor}`);
      }
      if (m.disbursedAtMs !== null)
        return rejection("ALREADY_DISBURSED", `milestone ${cmd.milestone} of project ${p.id} was paid at ${m.disbursedAtMs}`);
      const held = p.raised - p.disbursed;
      if (held < m.amount) {
        return rejection("INSUFFICIENT_HELD", `project ${p.id} holds ${held}, less than the ${m.amount} of milestone ${cmd.milestone}`);
      }
      const cash = cashLegs(state, ctx, [
        { from: escrowHolder(p.id), to: m.beneficiary, amount: m.amount, memo: `milestone ${cmd.milestone} of project ${p.id}` },
      ]);
      if (isRejection(cash)) return cash;
      const data = {
        milestone: cmd.milestone,
        beneficiary: m.beneficiary,
        amount: m.amount.toString(),
        from: p.disbursed.toString(),
        atMs: ctx.blockTimeMs,
      };
      return [projectEvent("MilestoneDisbursed", p, data), ...cash.map((e) => ({ ...e, parties: [...p.parties] }))];
    }
    default:
      return unknownCommand(cmd);
  }
}

function keys(cmd: CharityCommand, ctx: TxContext): readonly string[] {
  switch (cmd.action) {
    case "open":
    case "attest":
      return [projectKey(cmd.action === "open" ? cmd.id : cmd.project)];
    case "donate":
      return [projectKey(cmd.project), donationKey(cmd.project, cmd.donation), cashAccountKey(ctx.signer), escrowAccountKey(cmd.project)];
    case "disburse":
      return [projectKey(cmd.project), escrowAccountKey(cmd.project), cashAccountKey(cmd.beneficiary)];
    default:
      return unknownCommand(cmd);
  }
}

function broken(message: string): never {
  throw new InvariantError(message, "CONTRACT_STATE");
}

function existing(state: StateSlice, id: string, type: string): Project {
  return projectIn(state, id) ?? broken(`${type} for charity project ${id}, which does not exist`);
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `charity ${event.type}`;
  const data = readObject(event.data, what);
  const atMs = readInteger(data, "atMs", what);
  const id = readString(data, "project", what);
  switch (event.type) {
    case "ProjectOpened": {
      if (state.has(projectKey(id))) broken(`charity project ${id} opened twice`);
      const organiser = readString(data, "organiser", what);
      const auditor = readString(data, "auditor", what);
      const milestones = (Array.isArray(data.milestones) ? data.milestones : broken(`${what}: milestones is not an array`)).map((m) => {
        const o = readObject(m, `${what} milestone`);
        return {
          description: readString(o, "description", what),
          amount: readDecimal(o, "amount", what),
          beneficiary: readString(o, "beneficiary", what),
          attestedAtMs: null,
          evidence: null,
          disbursedAtMs: null,
          disbursedFrom: null,
        };
      });
      const p: Project = {
        id,
        title: readString(data, "title", what),
        organiser,
        auditor,
        milestones,
        target: milestones.reduce((a, m) => a + m.amount, 0n),
        raised: 0n,
        disbursed: 0n,
        donations: 0,
        openedAtMs: atMs,
        parties: partiesOf(organiser, auditor, ...milestones.map((m) => m.beneficiary)),
      };
      return new Map([[projectKey(id), projectValue(p)]]);
    }
    case "DonationReceived": {
      const p = existing(state, id, event.type);
      const donation = readString(data, "donation", what);
      if (state.has(donationKey(id, donation))) broken(`donation ${donation} to ${id} received twice`);
      const amount = readDecimal(data, "amount", what);
      const start = readDecimal(data, "start", what);
      if (start !== p.raised) broken(`donation ${donation} to ${id} starts at ${start}, not at ${p.raised} raised`);
      if (p.raised + amount > p.target) broken(`donation ${donation} raises project ${id} above its target`);
      const donor = readString(data, "donor", what);
      const d = { project: id, id: donation, donor, amount, start, atMs, parties: partiesOf(donor, p.organiser, p.auditor) };
      return new Map([
        [projectKey(id), projectValue({ ...p, raised: p.raised + amount, donations: p.donations + 1 })],
        [donationKey(id, donation), donationValue(d)],
      ]);
    }
    case "MilestoneAttested": {
      const p = existing(state, id, event.type);
      const n = readInteger(data, "milestone", what);
      const m = p.milestones[n - 1] ?? broken(`${what}: project ${id} has no milestone ${n}`);
      if (m.attestedAtMs !== null) broken(`milestone ${n} of project ${id} attested twice`);
      const milestones = p.milestones.map((x, i) =>
        i === n - 1 ? { ...x, attestedAtMs: atMs, evidence: readString(data, "evidence", what) } : x,
      );
      return new Map([[projectKey(id), projectValue({ ...p, milestones })]]);
    }
    case "MilestoneDisbursed": {
      const p = existing(state, id, event.type);
      const n = readInteger(data, "milestone", what);
      const m = p.milestones[n - 1] ?? broken(`${what}: project ${id} has no milestone ${n}`);
      if (m.attestedAtMs === null || m.disbursedAtMs !== null) broken(`milestone ${n} of project ${id} paid unattested or twice`);
      if (readDecimal(data, "amount", what) !== m.amount) broken(`milestone ${n} of project ${id} paid a wrong amount`);
      if (p.disbursed + m.amount > p.raised) broken(`project ${id} would disburse more than it raised`);
      const milestones = p.milestones.map((x, i) => (i === n - 1 ? { ...x, disbursedAtMs: atMs, disbursedFrom: p.disbursed } : x));
      return new Map([[projectKey(id), projectValue({ ...p, milestones, disbursed: p.disbursed + m.amount })]]);
    }
    default:
      throw new InvariantError(`charity cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

/** The public aggregate of a project: what it raised, disbursed and holds, and where each milestone stands. */
export function summaryOf(p: Project): JsonValue {
  return {
    project: p.id,
    title: p.title,
    organiser: p.organiser,
    auditor: p.auditor,
    target: p.target.toString(),
    raised: p.raised.toString(),
    disbursed: p.disbursed.toString(),
    held: (p.raised - p.disbursed).toString(),
    donations: p.donations,
    milestones: p.milestones.map((m, i) => ({
      milestone: i + 1,
      description: m.description,
      amount: m.amount.toString(),
      beneficiary: m.beneficiary,
      attested: m.attestedAtMs !== null,
      disbursed: m.disbursedAtMs !== null,
    })),
  };
}

type DonationRef = { readonly project: string; readonly donation: string };

/**
 * The charity contract. State: `project/<id>` → a project with its milestones (see Project),
 * `donation/<project>/<id>` → a donation (see Donation); the project's undisbursed cash sits in the
 * cash account `charity/project/<id>`. Uses cash.
 */
export const charity: Contract = eraseContract<CharityCommand>({
  name: CHARITY_CONTRACT,
  uses: [CASH_CONTRACT],
  actions: {
    open: { roles: WRITER_ROLES, parse: parsers.open },
    donate: { roles: WRITER_ROLES, parse: parsers.donate },
    attest: { roles: ["auditor"], parse: parsers.attest },
    disburse: { roles: WRITER_ROLES, parse: parsers.disburse },
  },
  keys,
  decide,
  evolve,
  queries: {
    project: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [projectKey(q.id)],
      run: (q, state) => state.get(projectKey(q.id)) ?? null,
    }),
    // Public disclosure: the aggregate every member may read.
    summary: eraseQuery<{ readonly project: string }>({
      parse: (args) => parseArgs(args, { project: identifier }),
      keys: (q) => [projectKey(q.project)],
      run: (q, state) => {
        const p = projectIn(state, q.project);
        return p === undefined ? null : summaryOf(p);
      },
      public: true,
    }),
    // A donation from its donor to the beneficiaries it reached; its donor, organiser, auditor and
    // those beneficiaries may see it.
    trace: eraseQuery<DonationRef>({
      parse: (args) => parseArgs(args, { project: identifier, donation: identifier }),
      keys: (q) => [projectKey(q.project), donationKey(q.project, q.donation)],
      run: (q, state) => {
        const p = projectIn(state, q.project);
        const d = donationIn(state, q.project, q.donation);
        if (p === undefined || d === undefined) return null;
        const t = trace(p, d);
        return {
          project: p.id,
          donation: d.id,
          donor: d.donor,
          amount: d.amount.toString(),
          atMs: d.atMs,
          to: t.to.map((a) => ({ milestone: a.milestone, beneficiary: a.beneficiary, amount: a.amount.toString(), atMs: a.atMs })),
          held: t.held.toString(),
          parties: partiesOf(...d.parties, ...t.to.map((a) => a.beneficiary)),
        };
      },
    }),
  },
});
