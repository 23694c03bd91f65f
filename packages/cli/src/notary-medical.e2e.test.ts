// Issue 5's notarization, medical and credential scenarios over gRPC on a real local network:
// a file notarized with the real `tally notarize`, proven with the real `tally verify-file` (online,
// and offline from a receipt), a duplicate refused naming the first registrant, and every kind of
// tampered answer — a byte of the header signature, the Merkle path or the transaction, a lying
// registration, a receipt changed by one character — failing the check with a non-zero exit.
// Then medical access granted, used, revoked and refused; a credential verified at a height.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServiceError } from "@grpc/grpc-js";
import {
  GatewayServiceClient,
  GatewayServiceService,
  type GatewayServiceGetInclusionProofRequest,
  type GatewayServiceGetInclusionProofResponse,
  type QueryRequest,
  type QueryResponse,
} from "@tally/proto/gateway";
import { TxOutcome } from "@tally/proto/types";
import { fromUtf8, sha256, toHex, utf8 } from "@tally/ledger";
import { institutionHeaderInterceptor } from "@tally/rpc";
import type { SignedTransaction, TallyClient } from "@tally/sdk";
import {
  gatewayCredentials,
  repoRoot,
  startTestNetwork,
  uniqueSuffix,
  type ConsortiumFiles,
  type ConsortiumPlan,
  type NetworkFile,
  type TestNetwork,
} from "@tally/testkit";

import { civicScenarios } from "./demo/civic.js";
import { ScenarioRunner } from "./demo/scenario.js";
import { readNetwork } from "./paths.js";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const PLAN: ConsortiumPlan = {
  chainId: "tally-civic",
  institutions: [
    { id: "clearing", name: "Clearing House", roles: ["clearing"], node: "node-a" },
    { id: "enterprise-a", name: "Enterprise A", roles: ["enterprise"], node: "node-a" },
    { id: "enterprise-b", name: "Enterprise B", roles: ["enterprise"], node: "node-b" },
    { id: "hospital-a", name: "Hospital A", roles: ["hospital"], node: "node-a" },
    { id: "hospital-b", name: "Hospital B", roles: ["hospital"], node: "node-b" },
    { id: "patient-a", name: "Patient A", roles: ["patient"], node: "node-b" },
    { id: "school", name: "School", roles: ["school"], node: "node-a" },
    { id: "government", name: "Civil Registry", roles: ["government"], node: "node-b" },
  ],
  nodes: [
    { id: "node-a", institution: "clearing" },
    { id: "node-b", institution: "enterprise-b" },
  ],
  sequencers: [{ id: "seq-1", institution: "clearing" }],
};

/** Runs the real CLI without blocking this process (the tampering proxy below serves from it). */
function tally(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}

type Tamper = "none" | "signature" | "path" | "tx" | "header" | "owner";

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at] = out[at]! ^ 0x01;
  return out;
}

/**
 * A GatewayService in front of the real one that answers Query and GetInclusionProof by asking
 * the real gateway as `institution`, then changes one byte (or the registrant) as `tamper` says.
 */
async function tamperingGateway(
  upstream: string,
  files: ConsortiumFiles,
  institution: string,
): Promise<{ address: string; tamper: Tamper; stop(): Promise<void> }> {
  const real = new GatewayServiceClient(upstream, gatewayCredentials(files, institution), {
    interceptors: [institutionHeaderInterceptor(institution)],
  });
  const state = { address: "", tamper: "none" as Tamper, stop: async () => undefined };
  const server = new Server();
  server.addService(GatewayServiceService, {
    query: (call: ServerUnaryCall<QueryRequest, QueryResponse>, cb: sendUnaryData<QueryResponse>) => {
      real.query(call.request, (e: ServiceError | null, r?: QueryResponse) => {
        if (e !== null || r === undefined) return cb(e);
        if (state.tamper !== "owner" || call.request.contract !== "notary") return cb(null, r);
        const answer = JSON.parse(fromUtf8(r.result)) as { owner: string };
        cb(null, { ...r, result: utf8(JSON.stringify({ ...answer, owner: "enterprise-b" })) });
      });
    },
    getInclusionProof: (
      call: ServerUnaryCall<GatewayServiceGetInclusionProofRequest, GatewayServiceGetInclusionProofResponse>,
      cb: sendUnaryData<GatewayServiceGetInclusionProofResponse>,
    ) => {
      real.getInclusionProof(call.request, (e: ServiceError | null, r?: GatewayServiceGetInclusionProofResponse) => {
        if (e !== null || r === undefined) return cb(e);
        switch (state.tamper) {
          case "signature":
            return cb(null, { ...r, headerSignature: flip(r.headerSignature, 7) });
          case "path":
            // A block with one tx has an empty path: then the leaf index is the lie.
            return cb(null, r.path.length > 0 ? { ...r, path: [flip(r.path[0]!, 0), ...r.path.slice(1)] } : { ...r, leafIndex: 1 });
          case "tx":
            return cb(null, { ...r, signedTx: flip(r.signedTx, r.signedTx.length - 3) });
          case "header":
            return cb(null, { ...r, header: flip(r.header, r.header.length - 1) });
          default:
            return cb(null, r);
        }
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  state.address = `127.0.0.1:${port}`;
  state.stop = () =>
    new Promise<undefined>((resolve) => {
      real.close();
      server.tryShutdown(() => resolve(undefined));
    });
  return state;
}

describe("notarization, medical records and credentials over gRPC", () => {
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let files: ConsortiumFiles;
  let dir: string;
  let networkFile: string;
  const clients = new Map<string, TallyClient>();

  const client = (id: string): TallyClient => {
    let c = clients.get(id);
    if (c === undefined) {
      c = tn.client(id);
      clients.set(id, c);
    }
    return c;
  };
  const commit = async (c: TallyClient, tx: SignedTransaction): Promise<{ code: string; height: bigint }> => {
    const u = await c.submitAndWait(tx);
    const ok = u.result?.outcome === TxOutcome.TX_OUTCOME_COMMITTED;
    return { code: ok ? "OK" : (u.result?.reasonCode ?? "UNKNOWN"), height: u.height };
  };

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "cv" });
    ({ net, files, dir } = tn);
    networkFile = net.writeNetworkFile();
  });

  after(async () => {
    await tn?.close();
  });

  test("tally notarize registers a file; tally verify-file proves who and when, online and from a receipt", async () => {
    const file = join(dir, "master-recording.wav");
    writeFileSync(file, randomBytes(4096));
    const hash = toHex(sha256(readFileSync(file)));
    const receipt = join(dir, "receipt.json");

    const n = await tally(["notarize", file, "--as", "enterprise-a", "--network", networkFile, "--receipt", receipt]);
    assert.equal(n.code, 0, n.out + n.err);
    assert.match(n.out, new RegExp(`sha256 ${hash}`));
    assert.match(n.out, /registered by enterprise-a at height \d+/);
    const height = /at height (\d+)/.exec(n.out.split("registered by")[1]!)![1]!;

    // The chain says the same, through the SDK.
    const reg = await client("enterprise-b").query<{ owner: string; height: string }>("notary", "registration", { hash });
    assert.deepEqual([reg.result.owner, reg.result.height], ["enterprise-a", height]);

    const v = await tally(["verify-file", file, "--as", "enterprise-a", "--network", networkFile]);
    assert.equal(v.code, 0, v.out + v.err);
    assert.match(v.out, /registered by enterprise-a \(key k1\) as "master-recording\.wav"/);
    assert.match(v.out, new RegExp(`at height ${height}, block time \\d{4}-\\d\\d-\\d\\dT`));
    assert.match(v.out, /sealed by seq-1/);
    assert.match(v.out, /VERIFIED/);

    // Offline: the receipt and the genesis file, no network file, no gateway.
    const off = await tally(["verify-file", file, "--receipt", receipt, "--genesis", files.genesisFile]);
    assert.equal(off.code, 0, off.out + off.err);
    assert.match(off.out, /checking the receipt offline/);
    assert.match(off.out, new RegExp(`registered by enterprise-a .*\\n.*at height ${height}`));

    // A duplicate registration by another institution is refused and names the first registrant.
    const dup = await tally(["notarize", file, "--as", "enterprise-b", "--network", networkFile]);
    assert.equal(dup.code, 1, dup.out + dup.err);
    assert.match(
      dup.err,
      new RegExp(`ALREADY_REGISTERED: document ${hash} was first registered by enterprise-a in tx [0-9a-f]{64} at height ${height}`),
    );

    // One byte changed in the file: a different hash, not registered.
    const changed = join(dir, "changed.wav");
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(changed, bytes);
    const nv = await tally(["verify-file", changed, "--as", "enterprise-a", "--network", networkFile]);
    assert.equal(nv.code, 1, nv.out + nv.err);
    assert.match(nv.out, /NOT REGISTERED/);
    // The same file against a receipt of another: refused.
    const wrong = await tally(["verify-file", changed, "--receipt", receipt, "--genesis", files.genesisFile]);
    assert.equal(wrong.code, 1, wrong.out + wrong.err);
    assert.match(wrong.err, /VERIFICATION FAILED: PROOF_CLAIM_MISMATCH/);

    // A receipt changed by one hex character of the header signature fails offline.
    const r = JSON.parse(readFileSync(receipt, "utf8")) as { proof: { headerSignature: string } };
    const sig = r.proof.headerSignature;
    r.proof.headerSignature = (sig[0] === "0" ? "1" : "0") + sig.slice(1);
    const bad = join(dir, "receipt-tampered.json");
    writeFileSync(bad, JSON.stringify(r));
    const t = await tally(["verify-file", file, "--receipt", bad, "--genesis", files.genesisFile]);
    assert.equal(t.code, 1, t.out + t.err);
    assert.match(t.err, /VERIFICATION FAILED: PROOF_BAD_SIGNATURE/);
    // Garbage as a receipt: a clear refusal, not a crash.
    writeFileSync(bad, JSON.stringify({ chainId: PLAN.chainId, registration: 5 }));
    const g = await tally(["verify-file", file, "--receipt", bad, "--genesis", files.genesisFile]);
    assert.equal(g.code, 1, g.out + g.err);
    assert.match(g.err, /PROOF_MALFORMED_RECEIPT/);
    writeFileSync(bad, "{ not json");
    const nj = await tally(["verify-file", file, "--receipt", bad, "--genesis", files.genesisFile]);
    assert.equal(nj.code, 1, nj.out + nj.err);
    assert.match(nj.err, /PROOF_MALFORMED_RECEIPT: the receipt is not readable JSON/);

    // A gateway that lies, one byte at a time: every lie fails the check with its reason.
    const upstream = net.endpoints.institutions.find((i) => i.id === "enterprise-a")!.gateway;
    const proxy = await tamperingGateway(upstream, files, "enterprise-a");
    try {
      const endpoints = JSON.parse(readFileSync(networkFile, "utf8")) as NetworkFile;
      const lying = join(dir, "network-lying.json");
      writeFileSync(
        lying,
        JSON.stringify({
          ...endpoints,
          institutions: endpoints.institutions.map((i) => (i.id === "enterprise-a" ? { ...i, gateway: proxy.address, tls: undefined } : i)),
        }),
      );
      // Through the proxy, untouched: it verifies.
      proxy.tamper = "none";
      const honest = await tally(["verify-file", file, "--as", "enterprise-a", "--network", lying]);
      assert.equal(honest.code, 0, honest.out + honest.err);
      for (const [tamper, reason] of [
        ["signature", /PROOF_BAD_SIGNATURE/],
        ["path", /PROOF_BAD_PATH/],
        ["tx", /PROOF_BAD_PATH/],
        ["header", /PROOF_(BAD_SIGNATURE|MALFORMED_HEADER|WRONG_CHAIN|TREE_SIZE_MISMATCH|HEIGHT_MISMATCH)/],
        ["owner", /PROOF_CLAIM_MISMATCH: the gateway says enterprise-b registered it; the proof says enterprise-a/],
      ] as const) {
        proxy.tamper = tamper;
        const lie = await tally(["verify-file", file, "--as", "enterprise-a", "--network", lying]);
        assert.equal(lie.code, 1, `${tamper}: ${lie.out}${lie.err}`);
        assert.match(lie.err, /VERIFICATION FAILED/, tamper);
        assert.match(lie.err, reason, tamper);
        assert.doesNotMatch(lie.out, /VERIFIED/, tamper);
      }
    } finally {
      await proxy.stop();
    }
  });

  test("verify-file by an institution the gateway serves no proof to says so clearly", async () => {
    const file = join(dir, "memo.txt");
    writeFileSync(file, `memo ${uniqueSuffix()}`);
    assert.equal((await tally(["notarize", file, "--as", "enterprise-a", "--network", networkFile])).code, 0);
    const other = await tally(["verify-file", file, "--as", "enterprise-b", "--network", networkFile]);
    assert.equal(other.code, 1, other.out + other.err);
    assert.match(other.err, /serves no inclusion proof .* ask the registrant for a receipt/);
    const usage = await tally(["verify-file"]);
    assert.equal(usage.code, 2);
  });

  test("medical access granted, used, revoked, then refused; every access recorded", async () => {
    const hospA = client("hospital-a");
    const hospB = client("hospital-b");
    const patient = client("patient-a");
    const recordHash = toHex(sha256(utf8("discharge summary, never on chain")));
    const rec = `rec-${uniqueSuffix()}`;
    const access = { record: rec, patient: "patient-a", purpose: "second opinion" };

    assert.equal((await commit(hospA, hospA.medical.anchor({ id: rec, patient: "patient-a", hash: recordHash }))).code, "OK");
    // Before any grant, hospital-b neither reads the record nor may access it.
    await assert.rejects(hospB.query("medical", "record", { id: rec }), /NOT_FOUND/);
    assert.equal((await commit(hospB, hospB.medical.access(access))).code, "ACCESS_NOT_GRANTED");

    assert.equal((await commit(patient, patient.medical.grant({ to: "hospital-b" }))).code, "OK");
    const used = await commit(hospB, hospB.medical.access(access));
    assert.equal(used.code, "OK");
    // Having accessed, hospital-b is a party and reads the hash to check the record it was sent.
    const seen = await hospB.query<{ hash: string; accesses: number }>("medical", "record", { id: rec });
    assert.deepEqual([seen.result.hash, seen.result.accesses], [recordHash, 1]);

    const revoked = await commit(patient, patient.medical.revoke({ to: "hospital-b" }));
    assert.equal(revoked.code, "OK");
    assert.equal((await commit(hospB, hospB.medical.access(access))).code, "ACCESS_REVOKED");

    // The access log: one access, by hospital-b, at its height; the patient sees it.
    const log = await patient.query<{ by: string; height: string }[]>("medical", "accesses", { record: rec });
    assert.deepEqual(
      log.result.map((e) => [e.by, e.height]),
      [["hospital-b", used.height.toString()]],
    );
    const grant = await hospB.query<{ revokedHeight: string }>("medical", "grant", { patient: "patient-a", to: "hospital-b" });
    assert.equal(grant.result.revokedHeight, revoked.height.toString());
    // Every act is in the record's history, the refusals in the blocks' results.
    const history = await patient.history("medical", `record/${rec}`);
    assert.deepEqual(
      history.map((h) => h.type),
      ["RecordAnchored", "RecordAccessed"],
    );
    // Garbage args are refused at the gateway with a reason naming the field, and it keeps serving.
    await assert.rejects(commit(hospB, hospB.build("medical", "access", { record: rec, patient: 7 })), /BAD_ARGS: patient/);
    assert.equal((await hospB.query<{ hash: string }>("medical", "record", { id: rec })).result.hash, recordHash);
  });

  test("a credential is valid between its issue and revocation heights, as anyone verifies it", async () => {
    const school = client("school");
    const employer = client("enterprise-b");
    const id = `dip-${uniqueSuffix()}`;
    const claimHash = toHex(sha256(utf8("BSc Computer Science, 2026")));
    const issued = await commit(school, school.credential.issue({ id, kind: "education", subjectHash: "5a".repeat(32), claimHash }));
    assert.equal(issued.code, "OK");
    const before = await employer.query<{ valid: boolean; claimMatches: boolean }>("credential", "verify", { id, claimHash });
    assert.deepEqual([before.result.valid, before.result.claimMatches], [true, true]);
    const revoked = await commit(school, school.credential.revoke({ id, reason: "issued in error" }));
    assert.equal(revoked.code, "OK");
    const now = await employer.query<{ valid: boolean; status: string }>("credential", "verify", { id });
    assert.deepEqual([now.result.valid, now.result.status], [false, "revoked"]);
    const then = await employer.query<{ valid: boolean }>("credential", "verify", { id, height: Number(issued.height) });
    assert.equal(then.result.valid, true);
    // Only a school issues education credentials: the gateway refuses an employer's attempt.
    await assert.rejects(
      commit(employer, employer.build("credential", "issue", { id: "x", kind: "education", subjectHash: "5a".repeat(32), claimHash })),
      /FORBIDDEN_ROLE/,
    );
  });

  test("the demo's notarization, medical and credential scenarios run as a banker would expect", async () => {
    const net = readNetwork(networkFile);
    const runner = new ScenarioRunner(net);
    try {
      assert.equal(await civicScenarios(runner, Date.now(), net), true);
    } finally {
      runner.close();
    }
    assert.deepEqual(
      runner.outcomes.filter((o) => o.code !== "OK").map((o) => o.code),
      ["ALREADY_REGISTERED", "NOT_RIGHTS_HOLDER", "ACCESS_REVOKED"],
    );
  });
});
