// The seed's notarization, medical and credential scenarios (SCENARIOS.md §9, §10), as `tally demo`
// walks through them: a work registered, a copycat refused, a license and a transfer of rights, and
// the registration proven against genesis; a hospital's record anchored, a patient's grant used,
// revoked and refused after; a diploma and an identity attestation issued, verified and revoked.
import { createHash } from "node:crypto";
import { clientFor } from "../clients.js";
import type { readNetwork } from "../paths.js";
import type { ScenarioRunner } from "./scenario.js";

type Network = ReturnType<typeof readNetwork>;

const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Runs the three scenarios; resolves true when every step went as expected. */
export async function civicScenarios(r: ScenarioRunner, nowMs: number, net: Network): Promise<boolean> {
  const run = nowMs.toString(36);
  const work = sha256(`score of "Harbour Lights" ${net.chainId} ${run}`);
  const record = `rec${run}`;
  const results: boolean[] = [];
  const step = async (...a: Parameters<ScenarioRunner["step"]>) => results.push(await r.step(...a));

  console.log(`\n=== 5. Notarization and copyright: a musical score (sha256 ${work.slice(0, 16)}…) ===`);
  await step({
    as: "enterprise-b",
    say: "registers the score's hash: the block's time and proof show it existed then",
    contract: "notary",
    action: "register",
    args: { hash: work, title: "Harbour Lights, full score" },
  });
  await step({
    as: "enterprise-a",
    say: "tries to register the same score as its own (must be refused, naming the first registrant)",
    contract: "notary",
    action: "register",
    args: { hash: work, title: "Harbour Lights" },
    expect: "ALREADY_REGISTERED",
  });
  await step({
    as: "enterprise-b",
    say: "licenses enterprise-a to broadcast the score for a year",
    contract: "notary",
    action: "license",
    args: { hash: work, id: `lic${run}`, licensee: "enterprise-a", terms: "radio broadcast, worldwide", untilMs: nowMs + 365 * 86_400_000 },
  });
  await step({
    as: "enterprise-b",
    say: "sells the rights to enterprise-a",
    contract: "notary",
    action: "transfer",
    args: { hash: work, to: "enterprise-a" },
  });
  await step({
    as: "enterprise-b",
    say: "tries to license the score again (it no longer holds the rights: must be refused)",
    contract: "notary",
    action: "license",
    args: { hash: work, id: `lic${run}b`, licensee: "bank-a", terms: "print" },
    expect: "NOT_RIGHTS_HOLDER",
  });
  const author = clientFor(net, "enterprise-b", true);
  try {
    const proof = await author.proveNotarization(work);
    const ok = proof !== null && proof.proven.registrant === "enterprise-b";
    results.push(ok);
    if (proof !== null)
      console.log(
        `\nenterprise-b proves its registration against the genesis file, trusting no gateway: registered by ` +
          `${proof.proven.registrant} at height ${proof.proven.height}, block time ${new Date(proof.proven.blockTimeMs).toISOString()}, ` +
          `leaf ${proof.proven.leafIndex} of ${proof.proven.treeSize} under a header signed by ${proof.proven.sequencerId}`,
      );
    else console.log("  !! the registration was not found");
  } finally {
    author.close();
  }

  console.log(`\n=== 6. Medical records: ${record}, anchored by its hash only ===`);
  await step({
    as: "hospital-a",
    say: "anchors the hash of patient-a's discharge summary (the record stays in its own systems)",
    contract: "medical",
    action: "anchor",
    args: { id: record, patient: "patient-a", hash: sha256(`discharge summary ${record}`) },
  });
  const access = { record, patient: "patient-a", purpose: "second opinion on the discharge summary" };
  await step({
    as: "patient-a",
    say: "grants hospital-b access to its records",
    contract: "medical",
    action: "grant",
    args: { to: "hospital-b" },
  });
  await step({
    as: "hospital-b",
    say: "accesses the record: the access is recorded on the chain",
    contract: "medical",
    action: "access",
    args: access,
  });
  await step({ as: "patient-a", say: "revokes hospital-b's access", contract: "medical", action: "revoke", args: { to: "hospital-b" } });
  await step({
    as: "hospital-b",
    say: "tries again after the revocation (must be refused)",
    contract: "medical",
    action: "access",
    args: access,
    expect: "ACCESS_REVOKED",
  });
  const log = await r.query<{ by: string; height: string; purpose: string }[]>("patient-a", "medical", "accesses", { record });
  console.log(`\nthe access log of ${record}, as patient-a reads it:`);
  for (const e of log) console.log(`  height ${e.height.padStart(4)}  ${e.by.padEnd(12)} ${e.purpose}`);
  results.push(log.length === 1 && log[0]?.by === "hospital-b");

  console.log("\n=== 7. Education credentials and identity attestations ===");
  const diploma = `dip${run}`;
  await step({
    as: "school",
    say: `issues diploma ${diploma} (the subject and the document as sha256 digests: no personal data on the chain)`,
    contract: "credential",
    action: "issue",
    args: { id: diploma, kind: "education", subjectHash: sha256(`student 4711 ${run}`), claimHash: sha256(`BSc Computer Science ${run}`) },
  });
  await step({
    as: "government",
    say: "attests patient-a's identity document",
    contract: "credential",
    action: "issue",
    args: { id: `idn${run}`, kind: "identity", subjectHash: sha256(`citizen 1234 ${run}`), claimHash: sha256(`passport ${run}`) },
  });
  type Verified = { valid: boolean; status: string; issuedHeight: string; claimMatches?: boolean };
  const shown = await r.query<Verified>("enterprise-a", "credential", "verify", {
    id: diploma,
    claimHash: sha256(`BSc Computer Science ${run}`),
  });
  console.log(`\nenterprise-a, hiring, verifies ${diploma}: ${shown.status}, the document it was shown matches: ${shown.claimMatches}`);
  await step({
    as: "school",
    say: `revokes ${diploma}: it was issued in error`,
    contract: "credential",
    action: "revoke",
    args: { id: diploma, reason: "issued in error" },
  });
  const now = await r.query<Verified>("enterprise-a", "credential", "verify", { id: diploma });
  const then = await r.query<Verified>("enterprise-a", "credential", "verify", { id: diploma, height: Number(shown.issuedHeight) });
  console.log(`enterprise-a verifies again: ${now.status} now; at height ${shown.issuedHeight} it was ${then.status}`);
  results.push(shown.valid && shown.claimMatches === true && !now.valid && then.valid);
  return results.every(Boolean);
}
