// A worker thread that verifies one Ed25519 signature over and over for a fixed time and
// reports how many it did: the machine's verification ceiling, one core per worker.
import { parentPort, workerData } from "node:worker_threads";
import { ed25519Sign, ed25519Verify, signingKeyFromSeed } from "@tally/ledger";

const { durationMs, msgBytes } = workerData as { durationMs: number; msgBytes: number };
const key = signingKeyFromSeed(new Uint8Array(32).fill(7));
const msg = new Uint8Array(msgBytes).fill(3);
const sig = ed25519Sign(key, msg);
// Warm up, so the JIT and the key cache are settled before timing.
for (let i = 0; i < 500; i++) ed25519Verify(key.publicKey, msg, sig);
const end = performance.now() + durationMs;
let n = 0;
const start = performance.now();
while (performance.now() < end) {
  for (let i = 0; i < 100; i++) if (ed25519Verify(key.publicKey, msg, sig)) n++;
}
const elapsed = performance.now() - start;
parentPort?.postMessage({ n, elapsedMs: elapsed });
