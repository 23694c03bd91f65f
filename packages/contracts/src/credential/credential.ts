// Education credentials and identity attestations (SCENARIOS.md §10). A school issues education
// credentials and a government identity attestations: an id, the kind, and two sha256 digests, of
// the subject (a salted identifier the holder can reveal) and of the credential document, so no
// personal data goes on the chain. The issuer, and only it, revokes one, once. Anyone verifies:
// `verify` is public and says whether the credential is valid at a given height — issued at or
// before it and not revoked at or before it — from the issue and revocation heights the state keeps.
import { InvariantError, type JsonValue } from "@tally/ledger";
import { isRejection, rejection, type Contract, type ContractEvent, type Rejection, type StateSlice, type TxContext } from "../contract.js";
import { eraseContract, eraseQuery } from "../erase-contract.js";
import { hex32, identifier, optionalString, parseArgs, type Args, type Field } from "../schema.js";
import { readInteger, readNullableString, readObject, readString } from "../state-read.js";

/** The credential contract's name in transactions and the registry. */
export const CREDENTIAL_CONTRACT = "credential";

/** Longest revocation reason, in UTF-16 code units. */
export const REASON_LENGTH_MAX = 200;

/** The kinds of credential, and the role that issues each. */
export const CREDENTIAL_KINDS = { education: "school", identity: "government" } as const;

/** A kind of credential. */
export type CredentialKind = keyof typeof CREDENTIAL_KINDS;

/** The roles that issue and revoke credentials. */
export const ISSUER_ROLES: readonly string[] = Object.values(CREDENTIAL_KINDS);

/** The state key of a credential. */
export function credentialKey(id: string): string {
  return `cred/${id}`;
}

const kind: Field<CredentialKind> = (args, name) => {
  const v = Object.hasOwn(args, name) ? args[name] : undefined;
  if (typeof v !== "string" || !Object.hasOwn(CREDENTIAL_KINDS, v))
    return rejection("BAD_ARGS", `${name} must be one of ${Object.keys(CREDENTIAL_KINDS).join(", ")}`);
  return v as CredentialKind;
};

/** A block height as a query takes it: a JSON integer from 0 (safe integers: heights stay far below). */
const optionalHeight: Field<bigint | undefined> = (args, name) => {
  const v = Object.hasOwn(args, name) ? args[name] : undefined;
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) return rejection("BAD_ARGS", `${name} must be a non-negative integer`);
  return BigInt(v);
};

type CredentialCommand =
  | {
      readonly action: "issue";
      readonly id: string;
      readonly kind: CredentialKind;
      readonly subjectHash: string;
      readonly claimHash: string;
    }
  | { readonly action: "revoke"; readonly id: string; readonly reason: string | undefined };

function parseIssue(args: Args): CredentialCommand | Rejection {
  const a = parseArgs(args, { id: identifier, kind, subjectHash: hex32, claimHash: hex32 });
  return isRejection(a) ? a : { action: "issue", ...a };
}

function parseRevoke(args: Args): CredentialCommand | Rejection {
  const a = parseArgs(args, { id: identifier, reason: optionalString(REASON_LENGTH_MAX) });
  return isRejection(a) ? a : { action: "revoke", id: a.id, reason: a.reason };
}

/** A credential as decide and the queries see it. */
interface Credential {
  readonly id: string;
  readonly kind: string;
  readonly issuer: string;
  readonly subjectHash: string;
  readonly claimHash: string;
  readonly issuedHeight: string;
  readonly issuedMs: number;
  readonly revokedHeight: string | null;
}

function credentialIn(state: StateSlice, id: string): Credential | undefined {
  const v = state.get(credentialKey(id));
  if (v === undefined) return undefined;
  const what = `credential ${id}`;
  const o = readObject(v, what);
  return {
    id: readString(o, "id", what),
    kind: readString(o, "kind", what),
    issuer: readString(o, "issuer", what),
    subjectHash: readString(o, "subjectHash", what),
    claimHash: readString(o, "claimHash", what),
    issuedHeight: readString(o, "issuedHeight", what),
    issuedMs: readInteger(o, "issuedMs", what),
    revokedHeight: readNullableString(o, "revokedHeight", what),
  };
}

function decide(cmd: CredentialCommand, state: StateSlice, ctx: TxContext): readonly ContractEvent[] | Rejection {
  const at = { height: ctx.height.toString(), blockTimeMs: ctx.blockTimeMs, txId: ctx.txId };
  switch (cmd.action) {
    case "issue": {
      const role = CREDENTIAL_KINDS[cmd.kind];
      if (!(ctx.members.get(ctx.signer)?.roles ?? []).includes(role))
        return rejection("KIND_NOT_ALLOWED", `${cmd.kind} credentials are issued by the ${role} role, which ${ctx.signer} does not hold`);
      if (state.has(credentialKey(cmd.id))) return rejection("CREDENTIAL_EXISTS", `credential ${cmd.id} is already issued`);
      const data = { id: cmd.id, kind: cmd.kind, issuer: ctx.signer, subjectHash: cmd.subjectHash, claimHash: cmd.claimHash, ...at };
      return [{ type: "CredentialIssued", assetId: credentialKey(cmd.id), parties: [ctx.signer], data }];
    }
    case "revoke": {
      const c = credentialIn(state, cmd.id);
      if (c === undefined) return rejection("UNKNOWN_CREDENTIAL", `no credential ${cmd.id}`);
      if (c.issuer !== ctx.signer) return rejection("NOT_ISSUER", `credential ${cmd.id} was issued by ${c.issuer}; only it may revoke it`);
      if (c.revokedHeight !== null) return rejection("ALREADY_REVOKED", `credential ${cmd.id} was revoked at height ${c.revokedHeight}`);
      const data = { id: cmd.id, issuer: ctx.signer, reason: cmd.reason ?? null, ...at };
      return [{ type: "CredentialRevoked", assetId: credentialKey(cmd.id), parties: [ctx.signer], data }];
    }
    default: {
      const never: never = cmd;
      throw new InvariantError(`unknown credential command ${(never as { action: string }).action}`, "CONTRACT_STATE");
    }
  }
}

function evolve(state: StateSlice, event: ContractEvent): ReadonlyMap<string, JsonValue | null> {
  const what = `credential ${event.type}`;
  const data = readObject(event.data, what);
  const id = readString(data, "id", what);
  const key = credentialKey(id);
  switch (event.type) {
    case "CredentialIssued": {
      if (state.has(key)) throw new InvariantError(`${key} issued twice`, "CONTRACT_STATE");
      const issuer = readString(data, "issuer", what);
      return new Map([
        [
          key,
          {
            id,
            kind: readString(data, "kind", what),
            issuer,
            subjectHash: readString(data, "subjectHash", what),
            claimHash: readString(data, "claimHash", what),
            issuedHeight: readString(data, "height", what),
            issuedMs: readInteger(data, "blockTimeMs", what),
            issueTxId: readString(data, "txId", what),
            revokedHeight: null,
            revokedMs: null,
            reason: null,
            parties: [issuer],
          },
        ],
      ]);
    }
    case "CredentialRevoked": {
      const v = state.get(key);
      if (v === undefined) throw new InvariantError(`${what}: no credential ${id}`, "CONTRACT_STATE");
      return new Map([
        [
          key,
          {
            ...readObject(v, what),
            revokedHeight: readString(data, "height", what),
            revokedMs: readInteger(data, "blockTimeMs", what),
            reason: readNullableString(data, "reason", what),
          },
        ],
      ]);
    }
    default:
      throw new InvariantError(`credential cannot fold event ${event.type}`, "CONTRACT_STATE");
  }
}

type VerifyQuery = { readonly id: string; readonly height: bigint | undefined; readonly claimHash: string | undefined };

/**
 * `verify {id, height?, claimHash?}`: whether the credential is valid at the height (default: in the
 * state the query reads), with its issuer, kind, digests and heights; `claimMatches` when a
 * claimHash is given (the verifier's own sha256 of the document it was shown). Null for no such
 * credential. Public: employers and governments verify what they are shown.
 */
function verify(q: VerifyQuery, state: StateSlice): JsonValue {
  const c = credentialIn(state, q.id);
  if (c === undefined) return null;
  const issued = BigInt(c.issuedHeight);
  const revoked = c.revokedHeight === null ? undefined : BigInt(c.revokedHeight);
  let status: "valid" | "revoked" | "not-yet-issued";
  if (q.height === undefined) status = revoked === undefined ? "valid" : "revoked";
  else if (q.height < issued) status = "not-yet-issued";
  else status = revoked !== undefined && q.height >= revoked ? "revoked" : "valid";
  const v = state.get(credentialKey(q.id));
  const reason = readNullableString(readObject(v, `credential ${q.id}`), "reason", `credential ${q.id}`);
  return {
    id: c.id,
    kind: c.kind,
    issuer: c.issuer,
    subjectHash: c.subjectHash,
    claimHash: c.claimHash,
    issuedHeight: c.issuedHeight,
    revokedHeight: c.revokedHeight,
    reason,
    atHeight: q.height === undefined ? null : q.height.toString(),
    status,
    valid: status === "valid",
    ...(q.claimHash === undefined ? {} : { claimMatches: q.claimHash === c.claimHash }),
  };
}

/** The credential contract. State: `cred/<id>` → {id, kind, issuer, subjectHash, claimHash, issuedHeight, issuedMs, issueTxId, revokedHeight, revokedMs, reason, parties}. */
export const credential: Contract = eraseContract<CredentialCommand>({
  name: CREDENTIAL_CONTRACT,
  actions: {
    issue: { roles: ISSUER_ROLES, parse: parseIssue },
    revoke: { roles: ISSUER_ROLES, parse: parseRevoke },
  },
  keys: (cmd) => [credentialKey(cmd.id)],
  decide,
  evolve,
  queries: {
    verify: eraseQuery<VerifyQuery>({
      parse: (args) => {
        const a = parseArgs(args, {
          id: identifier,
          height: optionalHeight,
          claimHash: (x, n) => (Object.hasOwn(x, n) ? hex32(x, n) : undefined),
        });
        return isRejection(a) ? a : { id: a.id, height: a.height, claimHash: a.claimHash };
      },
      keys: (q) => [credentialKey(q.id)],
      public: true,
      run: verify,
    }),
    /** `credential {id}`: the whole state entry, for its issuer (and the regulator). */
    credential: eraseQuery<{ readonly id: string }>({
      parse: (args) => parseArgs(args, { id: identifier }),
      keys: (q) => [credentialKey(q.id)],
      run: (q, state) => state.get(credentialKey(q.id)) ?? null,
    }),
  },
});
