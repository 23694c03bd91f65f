/**
 * After which master kill each NATS kill happens: spread evenly over the run, never before the
 * first master kill, and all of them after the last when there are fewer master kills than
 * slots. Returns, for master kills 1..kills, how many NATS kills follow each one (index 0 = kill 1).
 */
export function natsKillSchedule(kills: number, natsKills: number): number[] {
  const after = Array.from({ length: Math.max(0, kills) }, () => 0);
  if (kills <= 0 || natsKills <= 0) return after;
  for (let j = 1; j <= natsKills; j++) {
    const k = Math.min(kills, Math.max(1, Math.round((j * kills) / (natsKills + 1))));
    after[k - 1]! += 1;
  }
  return after;
}
