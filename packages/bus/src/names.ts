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
 * Pull expiry for the ordered consumers that follow TXS and BLOCKS. An ordered consumer lives on
 * one server; when that server dies the client notices only after two missed heartbeats
 * (half the expiry each) and then recreates it. nats.js's 30 s default left a sequencer idle for
 * over a minute after a stream-leader kill; 5 s bounds that to a few seconds at the cost of one
 * idle pull request per 5 s.
 */
export const FOLLOW_EXPIRES_MS = 5000;
