import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root, from this package's compiled location. */
export const repoRoot: string = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Loaded before every service (node --import): when tracing is configured it registers the
 * OpenTelemetry ESM hook and starts the SDK before @grpc/grpc-js loads; otherwise it does nothing.
 */
export const telemetryRegister: string = pathToFileURL(`${repoRoot}packages/telemetry/dist/register.js`).href;

/** The compiled entry point of a service. */
export function serviceEntry(service: "sequencer" | "blockstore" | "executor" | "gateway" | "regfeed"): string {
  return `${repoRoot}services/${service}/dist/main.js`;
}

const LOG_LINES_MAX = 2000;

/** A child process with its recent output kept (bounded) for assertions and diagnosis. */
export class ServiceProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private lineWaiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(
    readonly name: string,
    /** A compiled service entry (run with this node), or a whole command line [command, ...args]. */
    entry: string | readonly string[],
    env: Record<string, string>,
    private readonly echo = false,
  ) {
    // TALLY_SERVICE_NODE_ARGS passes flags to every service's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const nodeArgs = (process.env.TALLY_SERVICE_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
    const [command, ...args] = typeof entry === "string" ? [process.execPath, "--import", telemetryRegister, ...nodeArgs, entry] : entry;
    if (command === undefined) throw new Error("empty command");
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    for (const s of [this.child.stdout, this.child.stderr]) {
      let buf = "";
      s?.on("data", (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          this.onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_MAX) this.lines.shift();
    if (this.echo) process.stderr.write(`[${this.name}] ${line}\n`);
    this.lineWaiters = this.lineWaiters.filter((w) => {
      if (!w.re.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Resolves with the first output line (already seen or future) matching re. */
  waitForLine(re: RegExp, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${this.lines.slice(-20).join("\n")}`),
          ),
        timeoutMs,
      );
      this.lineWaiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      void this.exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`${this.name} exited (${code}) before printing ${re}; last lines:\n${this.lines.slice(-20).join("\n")}`));
      });
    });
  }

  /** Sends a signal by PID and waits for the exit (SIGKILL after graceMs). */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
