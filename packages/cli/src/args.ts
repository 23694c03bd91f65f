/** Parsed command line: positional words and --flags (--name value, or --flag alone). */
export interface Args {
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

/** Splits argv into positionals and flags. */
export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const [k, v] = a.slice(2).split("=", 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (v !== undefined) flags.set(k, v);
      else if (next !== undefined && !next.startsWith("--")) {
        flags.set(k, next);
        i++;
      } else flags.set(k, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

/** A string flag, or the fallback. */
export function flag(a: Args, name: string, fallback?: string): string | undefined {
  const v = a.flags.get(name);
  return typeof v === "string" ? v : fallback;
}

/** An integer flag within [min, max], or the fallback; a bad value throws an error naming the flag. */
export function intFlag(a: Args, name: string, fallback: number, min: number, max: number): number {
  const v = flag(a, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${v}`);
  return n;
}
