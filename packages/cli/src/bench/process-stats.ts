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

/** Resident memory of named processes, sampled every `everyMs` while a run lasts. */
export class RssSampler {
  private readonly samples = new Map<string, { atMs: number; rssBytes: number }[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly startMs = Date.now();

  constructor(
    private readonly pids: ReadonlyMap<string, number>,
    everyMs: number,
    /** Samples kept per process: the oldest are thinned out beyond this. */
    private readonly max = 2048,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    const atMs = Date.now() - this.startMs;
    for (const [name, pid] of this.pids) {
      const s = sampleProcess(pid);
      if (s === undefined) continue;
      const list = this.samples.get(name) ?? [];
      list.push({ atMs, rssBytes: s.rssBytes });
      if (list.length > this.max) list.splice(0, list.length - this.max);
      this.samples.set(name, list);
    }
  }

  /**
   * Stops sampling. Per process: RSS growth (%) from the end of the warm-up to the end of the run,
   * each end being the median of its 3 nearest samples, so one GC's swing does not decide it.
   */
  stop(warmUpMs: number): Record<string, { after_warmup_mb: number; end_mb: number; growth_pct: number }> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, { after_warmup_mb: number; end_mb: number; growth_pct: number }> = {};
    const median3 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    for (const [name, list] of this.samples) {
      const i = list.findIndex((x) => x.atMs >= warmUpMs);
      if (i < 0 || list.length - i < 4) continue;
      const first = median3(list.slice(i, i + 3).map((x) => x.rssBytes));
      const last = median3(list.slice(-3).map((x) => x.rssBytes));
      out[name] = {
        after_warmup_mb: Math.round((first / 2 ** 20) * 10) / 10,
        end_mb: Math.round((last / 2 ** 20) * 10) / 10,
        growth_pct: first === 0 ? 0 : Math.round(((last - first) * 1000) / first) / 10,
      };
    }
    return out;
  }
}
