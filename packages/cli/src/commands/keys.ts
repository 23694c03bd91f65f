// `tally keys rotate --as <institution>`: replaces an institution's signing key through the
// membership contract (SCENARIOS.md §12). An institution manages its own keys with one signature,
// so no vote is needed: the old key signs add-key for a fresh Ed25519 key; once that is committed
// the institution's key file is switched to the new key; then the old key signs its own
// revoke-key. From that height on, a transaction signed with the old key is refused (KEY_REVOKED).
// The new key is written (mode 0600) next to the key file before anything is submitted, so a
// rotation cut short is resumed by running the command again, never losing a registered key.
import { randomBytes } from "node:crypto";
import { existsSync, renameSync, unlinkSync } from "node:fs";
import { loadKeyFile, writeKeyFile } from "@tally/config";
import { isValidId, signingKeyFromSeed, toHex, type TxSigner } from "@tally/ledger";
import { TxOutcome } from "@tally/proto/types";
import type { SignedTransaction, TallyClient } from "@tally/sdk";
import { flag, type Args } from "../args.js";
import { clientFor } from "../clients.js";
import { readNetwork } from "../paths.js";

const USAGE = "usage: tally keys rotate --as <institution> [--key-id <new key id>] [--network <network.json>]\n";

interface EntryKey {
  readonly keyId: string;
  readonly publicKey: string;
  readonly active: boolean;
}

function signerOf(path: string): TxSigner {
  const k = loadKeyFile(path);
  return { institutionId: k.owner, keyId: k.keyId, key: k.key };
}

/** The first k<n> not yet used by the institution (revoked ids are never reused). */
export function nextKeyId(keys: readonly EntryKey[]): string {
  const used = new Set(keys.map((k) => k.keyId));
  let n = keys.length + 1;
  while (used.has(`k${n}`)) n++;
  return `k${n}`;
}

async function commit(client: TallyClient, tx: SignedTransaction, what: string): Promise<bigint> {
  const last = await client.submitAndWait(tx);
  if (last.result?.outcome !== TxOutcome.TX_OUTCOME_COMMITTED)
    throw new Error(`${what} not committed: ${last.result?.reasonCode ?? "UNKNOWN"}: ${last.result?.message ?? "no result"}`);
  return last.height;
}

/** `tally keys <sub>`; rotate is the one subcommand. */
export async function keysCommand(sub: string | undefined, a: Args): Promise<number> {
  const as = flag(a, "as");
  if (sub !== "rotate" || as === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const keyId = flag(a, "key-id");
  if (keyId !== undefined && !isValidId(keyId)) {
    process.stderr.write(`--key-id must be an identifier (lowercase letters, digits, '.', '_', '-'), got ${keyId}\n`);
    return 2;
  }
  await rotateKey(readNetwork(flag(a, "network")), as, keyId);
  return 0;
}

/** Rotates the institution's key; returns the new key id and the heights of the add and the revocation. */
export async function rotateKey(
  net: ReturnType<typeof readNetwork>,
  as: string,
  requestedKeyId?: string,
): Promise<{ keyId: string; addedAt: bigint; revokedAt: bigint }> {
  const inst = net.institutions.find((i) => i.id === as);
  if (inst === undefined) throw new Error(`unknown institution ${as}; known: ${net.institutions.map((i) => i.id).join(", ")}`);
  const keyFile = inst.keyFile;
  const pending = `${keyFile}.new`;
  const old = signerOf(keyFile);
  const client = clientFor(net, as, false, old);
  try {
    const entry = (await client.query<{ keys: EntryKey[] } | null>("membership", "institution", { id: as })).result;
    if (entry === null) throw new Error(`institution ${as} is not a member`);
    const current = entry.keys.find((k) => k.keyId === old.keyId);
    if (current === undefined || !current.active) throw new Error(`${keyFile} holds ${as}/${old.keyId}, which is not an active key`);

    // A key written by an earlier, interrupted rotation is reused; otherwise a fresh one.
    let fresh: TxSigner;
    if (existsSync(pending)) {
      fresh = signerOf(pending);
      console.log(`resuming with ${pending} (${as}/${fresh.keyId})`);
    } else {
      const seed = randomBytes(32);
      const keyId = requestedKeyId ?? nextKeyId(entry.keys);
      const key = signingKeyFromSeed(seed);
      writeKeyFile(pending, { owner: as, keyId, publicKey: toHex(key.publicKey), seed: seed.toString("hex") });
      fresh = { institutionId: as, keyId, key };
    }
    const publicKey = toHex(fresh.key.publicKey);

    const registered = entry.keys.find((k) => k.keyId === fresh.keyId);
    let addedAt: bigint;
    if (registered === undefined) {
      addedAt = await commit(client, client.membership.addKey({ keyId: fresh.keyId, publicKey }), `add-key ${as}/${fresh.keyId}`);
    } else if (registered.publicKey === publicKey && registered.active) {
      addedAt = (await client.query("membership", "institution", { id: as })).height;
    } else {
      throw new Error(`${pending} holds ${as}/${fresh.keyId}, which the membership state registers otherwise; remove it and retry`);
    }
    console.log(`key ${as}/${fresh.keyId} active at height ${addedAt}`);

    // The new key is active at a committed height: the key file switches to it.
    renameSync(keyFile, `${keyFile}.old`);
    renameSync(pending, keyFile);
    console.log(`${keyFile} now holds ${as}/${fresh.keyId}`);

    const revokedAt = await commit(client, client.membership.revokeKey({ keyId: old.keyId }), `revoke-key ${as}/${old.keyId}`);
    unlinkSync(`${keyFile}.old`);
    console.log(`key ${as}/${old.keyId} revoked at height ${revokedAt}`);
    return { keyId: fresh.keyId, addedAt, revokedAt };
  } finally {
    client.close();
  }
}
