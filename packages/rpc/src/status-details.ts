import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** The ErrorInfo domain of every Tally error. */
export const ERROR_DOMAIN = "tally";
/** The trailer that carries a serialized google.rpc.Status (the gRPC "richer error model"). */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest";

/** A google.rpc.Status with the two details Tally sends: an ErrorInfo and, when a field is wrong, a BadRequest. */
export interface StatusDetails {
  readonly code: number;
  readonly message: string;
  /** ErrorInfo.reason: Tally's stable reason code, as in the tally-reason trailer. */
  readonly reason: string;
  /** ErrorInfo.metadata, e.g. retry-after-ms. */
  readonly metadata: Readonly<Record<string, string>>;
  /** BadRequest.field_violations[0].field: the request field that is wrong, as a proto path. */
  readonly field?: string;
}

// google.rpc.ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
function errorInfo(reason: string, metadata: Readonly<Record<string, string>>): Uint8Array {
  const w = new BinaryWriter();
  w.uint32(10).string(reason);
  w.uint32(18).string(ERROR_DOMAIN);
  for (const [k, v] of Object.entries(metadata)) w.uint32(26).fork().uint32(10).string(k).uint32(18).string(v).join();
  return w.finish();
}

// google.rpc.BadRequest { repeated FieldViolation field_violations = 1; } FieldViolation { string field = 1; string description = 2; string reason = 3; }
function badRequest(field: string, description: string, reason: string): Uint8Array {
  const w = new BinaryWriter();
  w.uint32(10).fork().uint32(10).string(field).uint32(18).string(description).uint32(26).string(reason).join();
  return w.finish();
}

/** Serializes a google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }. */
export function encodeStatusDetails(s: StatusDetails): Uint8Array {
  const details: [string, Uint8Array][] = [[ERROR_INFO_TYPE, errorInfo(s.reason, s.metadata)]];
  if (s.field !== undefined) details.push([BAD_REQUEST_TYPE, badRequest(s.field, s.message, s.reason)]);
  const w = new BinaryWriter();
  w.uint32(8).int32(s.code);
  w.uint32(18).string(s.message);
  for (const [typeUrl, value] of details) w.uint32(26).fork().uint32(10).string(typeUrl).uint32(18).bytes(value).join();
  return w.finish();
}

type Fields = Map<number, (string | Uint8Array | number)[]>;

// Reads one message's fields: varints as numbers, length-delimited as bytes; anything else is skipped.
function fieldsOf(bytes: Uint8Array): Fields {
  const r = new BinaryReader(bytes);
  const out: Fields = new Map();
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    const v = wt === WireType.Varint ? r.int32() : wt === WireType.LengthDelimited ? r.bytes() : (r.skip(wt), undefined);
    if (v !== undefined) out.set(no, [...(out.get(no) ?? []), v]);
  }
  return out;
}

const text = (v: unknown): string => (v instanceof Uint8Array ? new TextDecoder().decode(v) : "");

/** Parses a grpc-status-details-bin trailer back into Tally's StatusDetails (for clients and tests). */
export function decodeStatusDetails(bytes: Uint8Array): StatusDetails {
  const st = fieldsOf(bytes);
  let reason = "";
  let field: string | undefined;
  const metadata: Record<string, string> = {};
  for (const any of st.get(3) ?? []) {
    const a = fieldsOf(any as Uint8Array);
    const typeUrl = text(a.get(1)?.[0]);
    const value = (a.get(2)?.[0] as Uint8Array | undefined) ?? new Uint8Array(0);
    const f = fieldsOf(value);
    if (typeUrl === ERROR_INFO_TYPE) {
      reason = text(f.get(1)?.[0]);
      for (const entry of f.get(3) ?? []) {
        const e = fieldsOf(entry as Uint8Array);
        metadata[text(e.get(1)?.[0])] = text(e.get(2)?.[0]);
      }
    } else if (typeUrl === BAD_REQUEST_TYPE) {
      const first = f.get(1)?.[0];
      if (first instanceof Uint8Array) field = text(fieldsOf(first).get(1)?.[0]);
    }
  }
  const code = st.get(1)?.[0];
  return {
    code: typeof code === "number" ? code : 0,
    message: text(st.get(2)?.[0]),
    reason,
    metadata,
    ...(field !== undefined ? { field } : {}),
  };
}
