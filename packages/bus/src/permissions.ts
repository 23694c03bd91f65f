// Least privilege on the bus (issue 13): one NATS user per role, with publish and subscribe
// allow lists derived from the genesis and the bus names. Pure: no clock, no random, no I/O.
// nats-server refuses everything a user is not allowed (a publish is dropped and answered with a
// permissions violation), so a compromised service can do only what its role needs.
//
// What the services really ask of JetStream (nats.js 3, nats-server 2.9+):
// - every connection: $JS.API.INFO (jetstreamManager checks the API is there);
// - reading a stream S in order (OrderedFollower, KV watch): $JS.API.STREAM.INFO.S,
//   $JS.API.CONSUMER.CREATE.S.<name>[.<filter>], $JS.API.CONSUMER.MSG.NEXT.S.<name>,
//   $JS.API.CONSUMER.INFO.S.<name> (ordered consumers need no ack);
// - a JetStream publish is a plain publish whose reply subject is the client's inbox; the
//   inbox prefix is per user (_INBOX_<user>, set by connectBus), so no user reads another's replies;
// - KV: get is $JS.API.DIRECT.GET.KV_<bucket>[.<subject>] (or STREAM.MSG.GET), create, update
//   and delete are publishes to $KV.<bucket>.<key>.
import type { Genesis } from "@tally/ledger";
import type { BusNames } from "./names.js";

/** One NATS user and what it may do. */
export interface NatsUser {
  readonly user: string;
  /** Which role the user plays (docs/security.md has the table). */
  readonly role: "admin" | "sequencer" | "gateway" | "node" | "regulator";
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

export interface NatsUsersOptions {
  /**
   * The institutions each node's gateway submits for, by node id (a gateway may host several:
   * its client certificate map). The node's own institution (genesis validators) is always included.
   */
  readonly gatewayInstitutions?: Readonly<Record<string, readonly string[]>>;
  /** The node whose events the regulator's feed reads; default: the node of the first institution with the regulator role. */
  readonly regulatorNode?: string;
  /**
   * Sequencers besides genesis's (ids governance added with add-sequencer): each gets a
   * sequencer user like genesis's. Its id must be in the set in force for it to start.
   */
  readonly sequencers?: readonly string[];
}

/** The inbox prefix of a user: replies to its requests (API answers, acks, pulls) come only there. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user}`;
}

/** User names are subject tokens too (the inbox prefix), so they stay within letters, digits, '_' and '-'. */
export const NATS_USER_RE = /^[A-Za-z0-9_-]{1,128}$/;

const api = "$JS.API";

/** What reading stream s in order needs. */
function readStream(s: string): string[] {
  return [`${api}.STREAM.INFO.${s}`, `${api}.CONSUMER.CREATE.${s}.>`, `${api}.CONSUMER.MSG.NEXT.${s}.*`, `${api}.CONSUMER.INFO.${s}.*`];
}

function user(name: string, role: NatsUser["role"], publish: string[], subscribe: string[] = []): NatsUser {
  if (!NATS_USER_RE.test(name)) throw new TypeError(`NATS user name ${name} must match ${NATS_USER_RE}`);
  return { user: name, role, publish: [`${api}.INFO`, ...publish], subscribe: [`${inboxPrefixOf(name)}.>`, ...subscribe] };
}

/**
 * The users of a chain's bus:
 * - admin: everything (stream and KV management); used only by the setup step;
 * - sequencer-<id>, per genesis sequencer (and per id in `sequencers`): read TXS, publish BLOCKS
 *   (and read it, in order), read RECEIPTS (the sequencer set in force), read and write the lease
 *   keys `master` and its own `member.<id>`;
 * - gateway-<node>, per validator node: publish only its institutions' tx subjects;
 * - node-<node>, per validator node (blockstore, executor, regfeed): read BLOCKS and RECEIPTS,
 *   publish its own receipts and events;
 * - regulator: read-only, its own events feed (as deploy/nats-server-accounts.conf).
 */
export function natsUsers(genesis: Genesis, n: BusNames, o: NatsUsersOptions = {}): NatsUser[] {
  const kvStream = `KV_${n.leaseBucket}`;
  const kv = `$KV.${n.leaseBucket}`;
  const users: NatsUser[] = [{ user: "admin", role: "admin", publish: [">"], subscribe: [">"] }];
  const sequencerIds = [...new Set([...genesis.sequencers.map((s) => s.id), ...(o.sequencers ?? [])])];
  for (const id of sequencerIds) {
    users.push(
      user(`sequencer-${id}`, "sequencer", [
        ...readStream(n.txsStream),
        // BLOCKS: its tip, one block by height, and the stream in order (the blocks cut by others).
        ...readStream(n.blocksStream),
        `${api}.STREAM.MSG.GET.${n.blocksStream}`,
        n.blocksSubject,
        // The validators' receipts: each one's latest (by subject), then the stream in order.
        ...readStream(n.receiptsStream),
        `${api}.STREAM.MSG.GET.${n.receiptsStream}`,
        ...readStream(kvStream),
        `${api}.STREAM.MSG.GET.${kvStream}`,
        `${api}.DIRECT.GET.${kvStream}`,
        `${api}.DIRECT.GET.${kvStream}.>`,
        `${kv}.master`,
        `${kv}.member.${id}`,
      ]),
    );
  }
  const nodes = [...new Set(genesis.validators.map((v) => v.nodeId))];
  for (const node of nodes) {
    const own = genesis.validators.filter((v) => v.nodeId === node).map((v) => v.institutionId);
    const hosted = [...new Set([...own, ...(o.gatewayInstitutions?.[node] ?? [])])].sort();
    users.push(
      user(
        `gateway-${node}`,
        "gateway",
        hosted.map((i) => n.txSubject(i)),
      ),
    );
  }
  for (const node of nodes) {
    users.push(
      user(`node-${node}`, "node", [
        ...readStream(n.blocksStream),
        ...readStream(n.receiptsStream),
        n.receiptSubject(node),
        `${n.namespace}.events.${node}.>`,
      ]),
    );
  }
  const regulatorNode = o.regulatorNode ?? regulatorNodeOf(genesis);
  if (regulatorNode !== undefined) {
    const ev = n.eventsStream;
    const filter = `${n.namespace}.events.${regulatorNode}.>`;
    users.push(
      user(
        "regulator",
        "regulator",
        [
          `${api}.STREAM.INFO.${ev}`,
          `${api}.CONSUMER.CREATE.${ev}.regulator-feed.${filter}`,
          `${api}.CONSUMER.INFO.${ev}.regulator-feed`,
          `${api}.CONSUMER.MSG.NEXT.${ev}.regulator-feed`,
          `$JS.ACK.${ev}.regulator-feed.>`,
        ],
        [filter],
      ),
    );
  }
  return users;
}

function regulatorNodeOf(g: Genesis): string | undefined {
  const regulators = new Set(g.institutions.filter((i) => i.roles.includes("regulator")).map((i) => i.id));
  return g.validators.find((v) => regulators.has(v.institutionId))?.nodeId;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * The environment variable nats-server reads a user's password from, in a config rendered with
 * natsAuthorizationConf(users, (u) => "$" + natsPasswordVar(u)): TALLY_NATS_PASSWORD_<USER>,
 * upper case, '-' as '_'.
 */
export function natsPasswordVar(user: string): string {
  if (!NATS_USER_RE.test(user)) throw new TypeError(`NATS user name ${user} must match ${NATS_USER_RE}`);
  return `TALLY_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, "_")}`;
}

/** Checks that no two users share a password variable (e.g. "a-b" and "a_b"). */
export function natsPasswordVars(users: readonly NatsUser[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const u of users) {
    const v = natsPasswordVar(u.user);
    const other = [...out].find(([, x]) => x === v)?.[0];
    if (other !== undefined) throw new TypeError(`NATS users ${other} and ${u.user} would share the password variable ${v}`);
    out.set(u.user, v);
  }
  return out;
}

/**
 * The nats-server `authorization { users: [...] }` block for these users. passwordOf gives each
 * user's password (a literal, or a `$VARIABLE` nats-server reads from its environment).
 */
export function natsAuthorizationConf(users: readonly NatsUser[], passwordOf: (user: string) => string): string {
  const lines = ["authorization {", "  users: ["];
  for (const u of users) {
    const pw = passwordOf(u.user);
    const password = /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(pw) ? pw : q(pw);
    lines.push(`    # ${u.role}`, `    {`, `      user: ${q(u.user)}`, `      password: ${password}`);
    lines.push(`      permissions: {`);
    lines.push(`        publish: { allow: [${u.publish.map(q).join(", ")}] }`);
    lines.push(`        subscribe: { allow: [${u.subscribe.map(q).join(", ")}] }`);
    lines.push(`      }`, `    }`);
  }
  lines.push("  ]", "}");
  return lines.join("\n") + "\n";
}
