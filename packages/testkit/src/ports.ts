import { readFileSync } from "node:fs";
import { createServer } from "node:net";

// Ports are picked below the kernel's ephemeral range, so that the outgoing connections of this
// and every other process (which take ephemeral ports) cannot grab one between the moment it is
// found free and the moment the service binds it; and never twice in one process.
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const n = Number(low);
    return Number.isInteger(n) && n > 12_000 ? n : 32_768;
  } catch {
    return 32_768;
  }
}

const RANGE_HIGH = ephemeralLow() - 1;
const RANGE_LOW = Math.max(10_000, RANGE_HIGH - 12_000);

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A TCP port that was free a moment ago on host, below the ephemeral range, not handed out before by this process. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Test tooling's own randomness: which port to try.
    const port = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${RANGE_LOW} and ${RANGE_HIGH} on ${host}`);
}
