import { Event } from "@tally/proto/types";
import type { Bus, BusNames } from "@tally/bus";
import { canonicalJson } from "@tally/ledger";
import type { BlockEffects } from "./block-executor.js";

/**
 * Announces a committed block's events on tally.events.<node>.<contract>.<type>, for
 * subscribers that speak NATS (the EVENTS stream keeps them). Fire and forget: the
 * database is the record, and the regulator feed serves gap-free history from it.
 */
export function eventAnnouncer(bus: Bus, names: BusNames, nodeId: string): (e: BlockEffects) => void {
  const enc = new TextEncoder();
  return (e) => {
    for (const ev of e.events) {
      const msg = Event.encode({
        cursor: { height: e.height, txIndex: ev.txIndex, eventIndex: ev.eventIndex },
        txId: ev.txId,
        contract: ev.contract,
        type: ev.event.type,
        assetId: ev.event.assetId,
        parties: [...ev.event.parties],
        data: enc.encode(canonicalJson(ev.event.data)),
        blockTimeMs: e.blockTimeMs,
        signer: ev.signer,
      }).finish();
      bus.nc.publish(names.eventSubject(nodeId, ev.contract, ev.event.type), msg);
    }
  };
}
