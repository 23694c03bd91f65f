#!/usr/bin/env node
// Runs `tally bench` over a grid of workloads and offered rates, several times each, and writes
// docs/benchmarks/results.json (every run), docs/benchmarks/transfer-latency.svg (latency
// against offered load, medians) and a Markdown table of medians on stdout.
// Usage: node scripts/bench-report.mjs [--workloads transfer,notarize,query] [--rates 250,500,1000,max] [--runs 3] [--duration 20]
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const workloads = arg("workloads", "transfer").split(",");
// Rates for workloads other than transfer (transfer takes --rates): the open-loop maximum by default.
const otherRates = arg("other-rates", "max").split(",");
const rates = arg("rates", "250,500,1000,max").split(",");
const runs = Number(arg("runs", "3"));
const duration = arg("duration", "20");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = [];
for (const workload of workloads) {
  for (const rate of workload === "transfer" ? rates : otherRates) {
    for (let run = 1; run <= runs; run++) {
      process.stderr.write(`${workload} rate=${rate} run ${run}/${runs}... `);
      const r = spawnSync(
        process.execPath,
        [join(root, "packages/cli/dist/main.js"), "bench", "--workload", workload, "--rate", rate, "--duration", duration, "--json"],
        {
          encoding: "utf8",
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const last = r.stdout.trim().split("\n").at(-1) ?? "";
      try {
        const j = JSON.parse(last);
        results.push({ run, ...j });
        process.stderr.write(`committed ${j.committed_tps} tx/s, p99 commit ${j.p99_commit_ms} ms, lost ${j.lost}\n`);
      } catch {
        process.stderr.write(`failed (exit ${r.status}): ${r.stderr.slice(-500)}\n`);
      }
    }
  }
}
const outDir = join(root, "docs/benchmarks");
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, "results.json"),
  JSON.stringify({ at: new Date().toISOString(), duration_s: Number(duration), results }, null, 2) + "\n",
);

const groups = new Map();
for (const r of results) {
  const k = `${r.workload}|${r.offered_tps}`;
  groups.set(k, [...(groups.get(k) ?? []), r]);
}
const rows = [...groups.values()].map((rs) => ({
  workload: rs[0].workload,
  offered: rs[0].offered_tps,
  runs: rs.length,
  committed_tps: median(rs.map((r) => r.committed_tps)),
  p50_accept_ms: median(rs.map((r) => r.p50_accept_ms)),
  p50_commit_ms: median(rs.map((r) => r.p50_commit_ms)),
  p95_commit_ms: median(rs.map((r) => r.p95_commit_ms)),
  p99_commit_ms: median(rs.map((r) => r.p99_commit_ms)),
  max_commit_ms: median(rs.map((r) => r.max_commit_ms)),
  p99_final_ms: median(rs.map((r) => r.p99_final_ms ?? NaN)),
  efficiency: median(rs.map((r) => r.efficiency)),
  verify_2core: median(rs.map((r) => r.verify_2core_per_s)),
  js_publish: median(rs.map((r) => r.jetstream_publish_per_s)),
  pg_insert: median(rs.map((r) => r.pg_insert_rows_per_s)),
  lost: rs.reduce((a, r) => a + r.lost, 0),
}));
console.log(
  "| workload | offered tx/s | runs | committed tx/s | p50 accept ms | p50 commit ms | p95 commit ms | p99 commit ms | p99 final ms | efficiency | verify 2-core /s | JetStream pub /s | PG rows /s | lost |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.workload} | ${r.offered} | ${r.runs} | ${r.committed_tps} | ${r.p50_accept_ms} | ${r.p50_commit_ms} | ${r.p95_commit_ms} | ${r.p99_commit_ms} | ${r.p99_final_ms} | ${r.efficiency} | ${r.verify_2core} | ${r.js_publish} | ${r.pg_insert} | ${r.lost} |`,
  );
}

// Latency against offered load for transfer: p50 and p99 commit latency (log scale) at each offered rate.
const t = rows.filter((r) => r.workload === "transfer");
if (t.length > 0) writeFileSync(join(outDir, "transfer-latency.svg"), svg(t));

function svg(points) {
  const W = 640,
    H = 400,
    L = 70,
    R = 20,
    T = 40,
    B = 60;
  const xs = points.map((p) => (p.offered === "max" ? p.committed_tps : p.offered));
  const xMax = Math.max(...xs, ...points.map((p) => p.committed_tps)) * 1.1;
  const yMin = 1,
    yMax = Math.max(10, ...points.map((p) => p.p99_commit_ms)) * 2;
  const x = (v) => L + ((W - L - R) * v) / xMax;
  const y = (v) => T + (H - T - B) * (1 - Math.log10(Math.max(v, yMin) / yMin) / Math.log10(yMax / yMin));
  const ticks = [];
  for (let v = 1; v <= yMax; v *= 10) ticks.push(v);
  const line = (key, color) => {
    const pts = points.map((p, i) => [x(xs[i]), y(p[key])]);
    return (
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((q) => q.join(",")).join(" ")}"/>` +
      pts.map((q) => `<circle cx="${q[0]}" cy="${q[1]}" r="4" fill="${color}"/>`).join("")
    );
  };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">transfer: submit→COMMITTED latency against offered load (medians of ${points[0].runs} runs)</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>
${ticks.map((v) => `<line x1="${L - 4}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 8}" y="${y(v) + 4}" text-anchor="end">${v} ms</text>`).join("\n")}
${points.map((p, i) => `<text x="${x(xs[i])}" y="${H - B + 18}" text-anchor="middle">${p.offered === "max" ? `max (${Math.round(p.committed_tps)})` : p.offered}</text>`).join("\n")}
<text x="${W / 2}" y="${H - 15}" text-anchor="middle">offered tx/s (max: committed tx/s at the open-loop maximum)</text>
${line("p50_commit_ms", "#1f77b4")}${line("p99_commit_ms", "#d62728")}
<text x="${W - R - 120}" y="${T + 15}" fill="#1f77b4">p50 commit</text><text x="${W - R - 120}" y="${T + 32}" fill="#d62728">p99 commit</text>
</svg>
`;
}
