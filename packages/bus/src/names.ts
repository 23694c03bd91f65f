/**
 * Every stream, subject and bucket name in one place. A namespace prefixes them all so
 * that tests (and several chains on one NATS) never collide. The default namespace is
 * "tally", giving streams TXS, BLOCKS, RECEIPTS and subjects tally.tx.<institution> etc.
 */
export interface BusNames {
  readonly namespace: string;
  readonly txsStream: string;
  readonly blocksStream: string;
  readonly receiptsStream: string;
  readonly eventsStream: string;
  readonly leaseBucket: string;
  readonly blocksSubject: string;
  /** Subject filter that covers every institution's transactions. */
  readonly txsSubjects: string;
  readonly receiptsSubjects: string;
  /** Subject filter for every node's live events. */
  readonly eventsSubjects: string;
  txSubject(institutionId: string): string;
  receiptSubject(nodeId: string): string;
  eventSubject(nodeId: string, contract: string, eventType: string): string;
}

const NS_RE = /^[a-z][a-z0-9_]{0,31}$/;

/** The bus names for a namespace ("tally" by default). */
export function busNames(namespace = "tally"): BusNames {
  if (!NS_RE.test(namespace)) throw new TypeError(`bus namespace ${namespace} must match ${NS_RE}`);
  const streamPrefix = namespace === "tally" ? "" : `${namespace.toUpperCase()}_`;
  return {
    namespace,
    txsStream: `${streamPrefix}TXS`,
    blocksStream: `${streamPrefix}BLOCKS`,
    receiptsStream: `${streamPrefix}RECEIPTS`,
    eventsStream: `${streamPrefix}EVENTS`,
    leaseBucket: `${namespace}-leases`,
    blocksSubject: `${namespace}.blocks`,
    txsSubjects: `${namespace}.tx.>`,
    receiptsSubjects: `${namespace}.receipts.>`,
    eventsSubjects: `${namespace}.events.>`,
    txSubject: (i) => `${namespace}.tx.${i}`,
    receiptSubject: (n) => `${namespace}.receipts.${n}`,
    eventSubject: (n, c, t) => `${namespace}.events.${n}.${c}.${t}`,
  };
}

/** Block height h is stored at BLOCKS stream sequence h + 1 (genesis, height 0, at sequence 1). */
export function blockSeqOf(height: bigint): number {
  return Number(height) + 1;
}

/**
 * Pull expiry for the ordered consumers that follow TXS and BLOCKS (OrderedFollower). A pull is
 * renewed at expiry; 5 s keeps idle traffic at one request per 5 s per follower.
 */
export const FOLLOW_EXPIRES_MS = 5000;

/**
 * The idle heartbeat the server sends on each pull of a follower. An ordered consumer lives on one
 * server (the stream leader's); when that server dies, the heartbeats stop, which is how a follower
 * notices.
 */
export const FOLLOW_HEARTBEAT_MS = 500;

/**
 * No message and no heartbeat for this long while waiting: the follower's consumer is gone
 * (its server died), so it is recreated from the last sequence read + 1. nats.js alone would
 * wait for the dead server to come back (measured: over a minute after a TXS-leader kill).
 */
export const FOLLOW_STALL_MS = 2000;
