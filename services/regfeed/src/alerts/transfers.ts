// What the round-trip rule counts as a transfer: an event whose data names who gave and who got
// something (`from`/`to`, or `seller`/`buyer`). The thing moved is the cash (fungible: any
// cash counts as the same thing), a bond's units, an instrument's units, or else the asset itself.
import type { JsonValue } from "@tally/ledger";

/** One movement of a thing between two institutions, at a position in commit order. */
export interface Transfer {
  readonly thing: string;
  readonly from: string;
  readonly to: string;
  readonly height: bigint;
  readonly txIndex: number;
  readonly txId: Uint8Array;
}

/** The row fields a transfer is read from. */
export interface TransferSource {
  readonly contract: string;
  readonly assetId: string;
  readonly data: unknown;
  readonly height: bigint;
  readonly txIndex: number;
  readonly txId: Uint8Array;
}

/** The transfer an event records, or undefined when it records none. */
export function transferOf(e: TransferSource): Transfer | undefined {
  if (typeof e.data !== "object" || e.data === null || Array.isArray(e.data)) return undefined;
  const d = e.data as { readonly [k: string]: JsonValue };
  const pair =
    typeof d.from === "string" && typeof d.to === "string"
      ? [d.from, d.to]
      : typeof d.seller === "string" && typeof d.buyer === "string"
        ? [d.seller, d.buyer]
        : undefined;
  if (pair === undefined || pair[0] === pair[1]) return undefined;
  const thing =
    e.contract === "cash"
      ? "cash"
      : typeof d.bond === "string"
        ? `bond/${d.bond}`
        : typeof d.instrument === "string"
          ? `instrument/${d.instrument}`
          : `${e.contract}:${e.assetId}`;
  return { thing, from: pair[0]!, to: pair[1]!, height: e.height, txIndex: e.txIndex, txId: e.txId };
}
