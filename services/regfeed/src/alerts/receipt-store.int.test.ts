// Receipts are kept only when they are this chain's, from a genesis validator, signed by its key.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Kysely } from "kysely";
import { migrateToLatest, openDb, type Database } from "@tally/db";
import { ed25519Sign, signingKeyFromSeed, toHex } from "@tally/ledger";
import { Receipt, ReceiptBody } from "@tally/proto/types";
import { createTestDatabase } from "@tally/testkit";
import { ReceiptStore } from "./receipt-store.js";

let drop: () => Promise<void>;
let db: Kysely<Database>;
before(async () => {
  const t = await createTestDatabase("regfeed_receipts");
  drop = () => t.drop();
  db = openDb(t.url);
  await migrateToLatest(db);
});
after(async () => {
  await db?.destroy();
  await drop?.();
});

test("a validator's signed receipt is stored once; other chains, strangers, forgeries and garbage are not", async () => {
  const key = signingKeyFromSeed(new Uint8Array(32).fill(1));
  const other = signingKeyFromSeed(new Uint8Array(32).fill(2));
  const genesis = { chainId: "c1", validators: [{ nodeId: "n1", institutionId: "i1", publicKey: toHex(key.publicKey) }] };
  const stored: bigint[] = [];
  const store = new ReceiptStore(db, genesis, (h) => stored.push(h));
  const receipt = (chainId: string, nodeId: string, height: bigint, signWith = key, root = 7): Uint8Array => {
    const body = ReceiptBody.encode({
      chainId,
      nodeId,
      height,
      blockHash: new Uint8Array(32),
      stateRoot: new Uint8Array(32).fill(root),
      results: [],
      nextSequencers: [],
    }).finish();
    return Receipt.encode({ body, signature: ed25519Sign(signWith, body) }).finish();
  };
  assert.equal(await store.add(receipt("c1", "n1", 5n)), "stored");
  assert.equal(await store.add(receipt("c1", "n1", 5n, key, 8)), "stored", "a second receipt for the same height is a no-op, not an error");
  assert.equal(await store.add(receipt("c2", "n1", 6n)), "wrong-chain");
  assert.equal(await store.add(receipt("c1", "n9", 6n)), "unknown-validator");
  assert.equal(await store.add(receipt("c1", "n1", 6n, other)), "bad-signature");
  assert.equal(await store.add(new Uint8Array([1, 2, 3, 255])), "malformed");
  const rows = await db.selectFrom("node_receipts").selectAll().execute();
  assert.equal(rows.length, 1);
  assert.deepEqual(new Uint8Array(rows[0]!.state_root), new Uint8Array(32).fill(7), "the first receipt is kept");
  assert.deepEqual(stored, [5n, 5n]);
});
