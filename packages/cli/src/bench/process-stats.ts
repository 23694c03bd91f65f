import { readFileSync } from "node:fs";

/** CPU time and resident memory of one process, from /proc (Linux). */
export interface ProcessSample {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** Reads /proc/<pid>/stat and /proc/<pid>/status; undefined when the process is gone or /proc is absent. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}
