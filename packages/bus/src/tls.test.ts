// NATS TLS settings (issue 13): when a client requires TLS, and the TLS-only server block.
import { test } from "node:test";
import assert from "node:assert/strict";
import { natsTlsConf, natsTlsOptions } from "./connect.js";

test("natsTlsOptions: TLS for a tls:// server anywhere in the list or with a CA; none for plain nats://", () => {
  assert.equal(natsTlsOptions("nats://127.0.0.1:4222", undefined), undefined);
  assert.deepEqual(natsTlsOptions("tls://u:p@127.0.0.1:4222", undefined), {});
  assert.deepEqual(natsTlsOptions("nats://a:4222, TLS://b:4222", undefined), {});
  assert.deepEqual(natsTlsOptions("nats://127.0.0.1:4222", "/ca.pem"), { caFile: "/ca.pem" });
});

test("natsTlsConf quotes the paths", () => {
  const conf = natsTlsConf({ certFile: '/a "b"/cert.pem', keyFile: "/k.pem" });
  assert.match(conf, /^tls \{\n {2}cert_file: "\/a \\"b\\"\/cert.pem"\n {2}key_file: "\/k.pem"\n/);
});
