import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "./env.js";
import { parseClientCertMap } from "./client-cert-map.js";

test("a client certificate map maps CNs and SPKI pins to institutions", () => {
  const pin = "ab".repeat(32);
  const m = parseClientCertMap(
    {
      clients: [
        { institution: "bank-a", commonName: "bank-a.example" },
        { institution: "enterprise-a", spkiSha256: pin },
      ],
    },
    "map.json",
  );
  assert.equal(m.byCommonName.get("bank-a.example"), "bank-a");
  assert.equal(m.bySpkiSha256.get(pin), "enterprise-a");
});

test("a bad client certificate map fails with a message naming the file and entry", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /map.json: expected \{"clients"/],
    [{ clients: [{ institution: "Bank A", commonName: "x" }] }, /clients\[0\]\.institution/],
    [{ clients: [{ institution: "bank-a" }] }, /exactly one of commonName or spkiSha256/],
    [{ clients: [{ institution: "bank-a", commonName: "x", spkiSha256: "ab".repeat(32) }] }, /exactly one/],
    [{ clients: [{ institution: "bank-a", spkiSha256: "XYZ" }] }, /64 lowercase hex/],
    [
      {
        clients: [
          { institution: "bank-a", commonName: "x" },
          { institution: "bank-b", commonName: "x" },
        ],
      },
      /clients\[1\]: commonName x is mapped twice/,
    ],
  ];
  for (const [json, re] of bad) {
    assert.throws(
      () => parseClientCertMap(json, "map.json"),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(json),
    );
  }
});
