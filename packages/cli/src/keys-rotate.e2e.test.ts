// `tally keys rotate` on a real local network (issue 13): the real CLI adds a fresh key, switches
// the institution's key file (mode 0600), and revokes the old key. Afterwards a transaction
// signed with the old key is refused with KEY_REVOKED, and one signed with the new key commits.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TxOutcome } from "@tally/proto/types";
import { loadKeyFile } from "@tally/config";
import { toHex } from "@tally/ledger";
import { signerFromKeyFile, TallyClient, TallyError } from "@tally/sdk";
import {
  gatewayCredentials,
  repoRoot,
  startTestNetwork,
  type ConsortiumFiles,
  type ConsortiumPlan,
  type TestNetwork,
} from "@tally/testkit";
import { nextKeyId } from "./commands/keys.js";

const cli = join(repoRoot, "packages/cli/dist/main.js");
const PLAN: ConsortiumPlan = {
  chainId: "tally-rotate",
  institutions: [
    { id: "bank-a", name: "Bank A", roles: ["bank"], node: "node-a" },
    { id: "bank-b", name: "Bank B", roles: ["bank"], node: "node-a" },
  ],
  nodes: [{ id: "node-a", institution: "bank-a" }],
  sequencers: [{ id: "seq-1", institution: "bank-a" }],
};

function tally(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("exit", (code) => resolve({ code, out, err }));
  });
}

describe("nextKeyId", () => {
  test("the first k<n> unused, counting revoked keys", () => {
    assert.equal(nextKeyId([{ keyId: "k1", publicKey: "", active: true }]), "k2");
    assert.equal(
      nextKeyId([
        { keyId: "k1", publicKey: "", active: false },
        { keyId: "k3", publicKey: "", active: true },
      ]),
      "k4",
    );
  });
});

describe("tally keys rotate on a real network", () => {
  let tn: TestNetwork;
  let net: TestNetwork["net"];
  let files: ConsortiumFiles;
  let networkFile: string;

  before(async () => {
    tn = await startTestNetwork(PLAN, { prefix: "kr" });
    ({ net, files } = tn);
    networkFile = net.writeNetworkFile();
  });

  after(async () => {
    await tn?.close();
  });

  const clientWith = (signer: ReturnType<typeof signerFromKeyFile>): TallyClient =>
    new TallyClient(
      net.endpoints.institutions.find((i) => i.id === "bank-b")!.gateway,
      PLAN.chainId,
      signer,
      gatewayCredentials(files, "bank-b"),
    );

  test("rotate: the key file holds a new key (0600); the old key is KEY_REVOKED, the new one commits", async () => {
    const keyFile = files.keyFiles.get("bank-b")!;
    const old = signerFromKeyFile(keyFile);
    assert.equal(old.keyId, "k1");

    const r = await tally(["keys", "rotate", "--as", "bank-b", "--network", networkFile]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /key bank-b\/k2 active at height \d+/);
    assert.match(r.out, /key bank-b\/k1 revoked at height \d+/);

    const now = loadKeyFile(keyFile);
    assert.equal(now.keyId, "k2");
    assert.notEqual(toHex(now.key.publicKey), toHex(old.key.publicKey));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(existsSync(`${keyFile}.new`), false);
    assert.equal(existsSync(`${keyFile}.old`), false);

    const oldClient = clientWith(old);
    const newClient = clientWith(signerFromKeyFile(keyFile));
    try {
      const entry = (await newClient.query<{ keys: { keyId: string; active: boolean }[] }>("membership", "institution", { id: "bank-b" }))
        .result;
      assert.deepEqual(
        entry.keys.map((k) => [k.keyId, k.active]),
        [
          ["k1", false],
          ["k2", true],
        ],
      );

      // The old key: the gateway refuses it, or (had its view lagged) the executor rejects it; either way KEY_REVOKED.
      const stale = oldClient.notary.register({ hash: "ab".repeat(32), title: "signed with the revoked key" });
      const refused = await oldClient.submitAndWait(stale).then(
        (u) => {
          assert.equal(u.result?.outcome, TxOutcome.TX_OUTCOME_REJECTED);
          return u.result?.reasonCode;
        },
        (e: unknown) => {
          assert.ok(e instanceof TallyError, String(e));
          return e.reason;
        },
      );
      assert.equal(refused, "KEY_REVOKED");

      const fresh = await newClient.submitAndWait(newClient.notary.register({ hash: "cd".repeat(32), title: "signed with the new key" }));
      assert.equal(fresh.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED, fresh.result?.reasonCode);
    } finally {
      oldClient.close();
      newClient.close();
    }
  });

  test("with TALLY_KEY_PASSPHRASE set, the plain key rotates to an encrypted key file, which signs with the passphrase", async () => {
    const keyFile = files.keyFiles.get("bank-b")!;
    const pass = { value: "rotate me", source: "TALLY_KEY_PASSPHRASE" };
    const r = await tally(["keys", "rotate", "--as", "bank-b", "--network", networkFile], { TALLY_KEY_PASSPHRASE: pass.value });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /key bank-b\/k3 active at height \d+/);
    const json = JSON.parse(readFileSync(keyFile, "utf8")) as { keyId: string; seed?: string; encrypted?: object };
    assert.equal(json.keyId, "k3");
    assert.equal(json.seed, undefined);
    assert.ok(json.encrypted !== undefined);
    assert.throws(() => loadKeyFile(keyFile, undefined), /is encrypted/);
    assert.throws(() => loadKeyFile(keyFile, { ...pass, value: "wrong" }), /cannot decrypt with the passphrase from TALLY_KEY_PASSPHRASE/);
    const k = loadKeyFile(keyFile, pass);
    const c = clientWith({ institutionId: k.owner, keyId: k.keyId, key: k.key });
    try {
      const u = await c.submitAndWait(c.notary.register({ hash: "ef".repeat(32), title: "signed with the encrypted key" }));
      assert.equal(u.result?.outcome, TxOutcome.TX_OUTCOME_COMMITTED, u.result?.reasonCode);
    } finally {
      c.close();
    }
  });

  test("refused without --as, and for an unknown institution, with the key file untouched", async () => {
    const keyFile = files.keyFiles.get("bank-a")!;
    const before = loadKeyFile(keyFile).keyId;
    assert.equal((await tally(["keys", "rotate", "--network", networkFile])).code, 2);
    const r = await tally(["keys", "rotate", "--as", "bank-z", "--network", networkFile]);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown institution bank-z/);
    assert.equal(loadKeyFile(keyFile).keyId, before);
  });
});
