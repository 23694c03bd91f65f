import { fromHex } from "./bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { sha256 } from "./hash.js";
import { isValidId } from "./tx.js";

/** A key as written in genesis: its id and raw Ed25519 public key in hex. */
export interface GenesisKey {
  readonly keyId: string;
  readonly publicKey: string;
}

/** A founding member of the consortium. */
export interface GenesisInstitution {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly keys: readonly GenesisKey[];
}

/** The chain's founding document. Every node loads the same one; its hash is in block 0. */
export interface Genesis {
  readonly chainId: string;
  /** The genesis block's timestamp, Unix ms. */
  readonly genesisTimeMs: number;
  readonly institutions: readonly GenesisInstitution[];
  /** Sequencers allowed to sign blocks, by id, with their raw public keys in hex. */
  readonly sequencers: readonly { readonly id: string; readonly publicKey: string }[];
  /** Validator nodes that sign execution receipts. */
  readonly validators: readonly { readonly nodeId: string; readonly institutionId: string; readonly publicKey: string }[];
  /** Finality: a block is final when more than quorumNumerator/quorumDenominator of validators agree. */
  readonly finality: { readonly quorumNumerator: number; readonly quorumDenominator: number };
  /**
   * Governance: a membership or chain-config proposal applies once at least
   * thresholdNumerator/thresholdDenominator of the voting members voted yes. Optional; absent
   * means 2/3 (the membership contract records the default in its chain-config state).
   */
  readonly governance?: GenesisGovernance;
}

/** The governance threshold in genesis: a fraction above one half and at most one (unanimity). */
export interface GenesisGovernance {
  readonly thresholdNumerator: number;
  readonly thresholdDenominator: number;
}

/**
 * The roles Tally knows. hospital and patient act in medical records; school issues education
 * credentials and government identity attestations (SCENARIOS.md §10); auditor attests charity
 * milestones.
 */
export const ROLES = [
  "bank",
  "enterprise",
  "exchange",
  "clearing",
  "warehouse",
  "oracle",
  "regulator",
  "issuer",
  "auditor",
  "hospital",
  "patient",
  "school",
  "government",
] as const;

/** sha256 of the canonical JSON of the genesis document. */
export function genesisHash(g: Genesis): Uint8Array {
  return sha256(new TextEncoder().encode(canonicalJson(g)));
}

function fail(msg: string): never {
  throw new TypeError(`genesis: ${msg}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isPublicKeyHex(s: unknown): s is string {
  if (typeof s !== "string") return false;
  try {
    return fromHex(s).byteLength === 32;
  } catch {
    return false;
  }
}

/** Validates a parsed genesis document, throwing a TypeError that names the bad field. */
export function parseGenesis(v: unknown): Genesis {
  if (!isRecord(v)) fail("not an object");
  const g = v;
  if (typeof g.chainId !== "string" || !isValidId(g.chainId)) fail("chainId is missing or invalid");
  if (typeof g.genesisTimeMs !== "number" || !Number.isSafeInteger(g.genesisTimeMs)) fail("genesisTimeMs must be an integer");
  if (!Array.isArray(g.institutions) || g.institutions.length === 0) fail("institutions must be a non-empty array");
  const seen = new Set<string>();
  for (const i of g.institutions as unknown[]) {
    if (!isRecord(i)) fail("institutions must be objects");
    if (typeof i.id !== "string" || !isValidId(i.id)) fail(`institution id ${String(i.id)} is invalid`);
    if (seen.has(i.id)) fail(`institution ${i.id} is listed twice`);
    seen.add(i.id);
    if (typeof i.name !== "string") fail(`institution ${i.id}: name must be a string`);
    if (!Array.isArray(i.roles) || i.roles.some((r) => !(ROLES as readonly unknown[]).includes(r)))
      fail(`institution ${i.id}: roles must be among ${ROLES.join(", ")}`);
    if (!Array.isArray(i.keys) || i.keys.length === 0) fail(`institution ${i.id}: needs at least one key`);
    const keyIds = new Set<string>();
    for (const k of i.keys as unknown[]) {
      if (!isRecord(k)) fail(`institution ${i.id}: keys must be objects`);
      if (typeof k.keyId !== "string" || !isValidId(k.keyId)) fail(`institution ${i.id}: key id invalid`);
      if (keyIds.has(k.keyId)) fail(`institution ${i.id}: key ${k.keyId} is listed twice`);
      keyIds.add(k.keyId);
      if (!isPublicKeyHex(k.publicKey)) fail(`institution ${i.id}: key ${k.keyId} is not a 32-byte hex public key`);
    }
  }
  if (!Array.isArray(g.sequencers) || g.sequencers.length === 0) fail("sequencers must be a non-empty array");
  const sequencerIds = new Set<string>();
  for (const s of g.sequencers as unknown[]) {
    if (!isRecord(s)) fail("sequencers must be objects");
    if (typeof s.id !== "string" || !isValidId(s.id)) fail("sequencer id invalid");
    if (sequencerIds.has(s.id)) fail(`sequencer ${s.id} is listed twice`);
    sequencerIds.add(s.id);
    if (!isPublicKeyHex(s.publicKey)) fail(`sequencer ${s.id}: publicKey invalid`);
  }
  if (!Array.isArray(g.validators) || g.validators.length === 0) fail("validators must be a non-empty array");
  const nodeIds = new Set<string>();
  for (const n of g.validators as unknown[]) {
    if (!isRecord(n)) fail("validators must be objects");
    if (typeof n.nodeId !== "string" || !isValidId(n.nodeId)) fail("validator nodeId invalid");
    if (nodeIds.has(n.nodeId)) fail(`validator ${n.nodeId} is listed twice`);
    nodeIds.add(n.nodeId);
    if (typeof n.institutionId !== "string" || !seen.has(n.institutionId))
      fail(`validator ${n.nodeId}: institutionId must name a genesis institution`);
    if (!isPublicKeyHex(n.publicKey)) fail(`validator ${n.nodeId}: publicKey invalid`);
  }
  // Integers only: the genesis hash is canonical JSON, which refuses non-integer numbers.
  const f = g.finality;
  if (
    !isRecord(f) ||
    !Number.isSafeInteger(f.quorumNumerator) ||
    !Number.isSafeInteger(f.quorumDenominator) ||
    !((f.quorumNumerator as number) > 0 && (f.quorumNumerator as number) < (f.quorumDenominator as number))
  ) {
    fail("finality must be {quorumNumerator, quorumDenominator} with 0 < numerator < denominator");
  }
  // Above one half, so two proposals voted by disjoint sets of members can never both pass; at
  // most one, since a threshold above every member could never be met.
  const gov = g.governance;
  if (
    gov !== undefined &&
    (!isRecord(gov) ||
      !Number.isSafeInteger(gov.thresholdNumerator) ||
      !Number.isSafeInteger(gov.thresholdDenominator) ||
      !(
        (gov.thresholdNumerator as number) <= (gov.thresholdDenominator as number) &&
        2 * (gov.thresholdNumerator as number) > (gov.thresholdDenominator as number)
      ))
  ) {
    fail("governance must be {thresholdNumerator, thresholdDenominator} with denominator/2 < numerator <= denominator");
  }
  // Any other field must survive canonical JSON too, or the genesis hash could not be computed.
  try {
    canonicalJson(v);
  } catch (e) {
    fail(`cannot be hashed: ${(e as Error).message}`);
  }
  return v as unknown as Genesis;
}
