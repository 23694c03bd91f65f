import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, Env } from "./env.js";

test("a bad value fails at start with a message that names the variable", () => {
  const env = new Env({ N: "12x", R: "70000", B: "yes", A: "nohost", E: "" });
  assert.throws(
    () => env.int("N", 1),
    (e: unknown) => e instanceof ConfigError && /N must be an integer/.test(e.message),
  );
  assert.throws(
    () => env.int("R", 1, 0, 65535),
    (e: unknown) => e instanceof ConfigError && /R must be between 0 and 65535/.test(e.message),
  );
  assert.throws(
    () => env.bool("B", false),
    (e: unknown) => e instanceof ConfigError && /B must be true or false/.test(e.message),
  );
  assert.throws(
    () => env.addr("A"),
    (e: unknown) => e instanceof ConfigError && /A must be host:port/.test(e.message),
  );
  assert.throws(
    () => env.str("E"),
    (e: unknown) => e instanceof ConfigError && /E is required/.test(e.message),
  );
  assert.throws(() => env.str("MISSING"), /MISSING is required/);
});

test("good values and defaults parse", () => {
  const env = new Env({ N: "42", B: "1", A: "[::1]:8080", S: "x" });
  assert.equal(env.int("N", 1), 42);
  assert.equal(env.int("ABSENT", 7), 7);
  assert.equal(env.bool("B", false), true);
  assert.deepEqual(env.addr("A"), { host: "::1", port: 8080 });
  assert.equal(env.str("S"), "x");
  assert.equal(env.optional("ABSENT"), undefined);
});
