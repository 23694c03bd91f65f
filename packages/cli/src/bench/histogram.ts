import * as hdr from "hdr-histogram-js";

/** Latency percentiles in ms, from an HdrHistogram (microsecond resolution, 3 significant digits). */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Records latencies (ms) into an HdrHistogram and reads percentiles back. */
export function percentilesOf(latenciesMs: readonly number[]): Percentiles {
  const h = hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const ms of latenciesMs) h.recordValue(Math.max(1, Math.round(ms * 1000)));
  const at = (p: number): number => (latenciesMs.length === 0 ? 0 : h.getValueAtPercentile(p) / 1000);
  const out = { count: latenciesMs.length, p50: at(50), p95: at(95), p99: at(99), max: latenciesMs.length === 0 ? 0 : h.maxValue / 1000 };
  h.destroy();
  return out;
}
