// The seeded input generator of the SignedTx fuzz loop: random bytes, truncations, bit flips,
// splices of two valid transactions and single bytes set to edge values. Deterministic for a
// seed, so a failing case is replayed from (seed, index). The gateway's test and
// `tally bench --fuzz` draw from the same generator.

/** mulberry32: a small seeded PRNG. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The default seed of the fuzz loop. */
export const FUZZ_SEED_DEFAULT = 20240606;

/** `cases` mutated inputs derived from the valid encodings in `seeds`, in a fixed order for the seed. */
export function* signedTxFuzzInputs(seed: number, cases: number, seeds: readonly Uint8Array[]): Generator<Uint8Array> {
  if (seeds.length === 0) throw new RangeError("the fuzz loop needs at least one valid SignedTx to mutate");
  const rnd = seededRandom(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  for (let i = 0; i < cases; i++) {
    const base = seeds[int(seeds.length)]!;
    switch (int(5)) {
      case 0:
        yield new Uint8Array(int(512)).map(() => int(256));
        break;
      case 1:
        yield base.subarray(0, int(base.length));
        break;
      case 2: {
        const input = base.slice();
        for (let k = 0, n = 1 + int(8); k < n; k++) {
          const at = int(input.length);
          input[at] = (input[at] ?? 0) ^ (1 << int(8));
        }
        yield input;
        break;
      }
      case 3: {
        const other = seeds[int(seeds.length)]!;
        const cut = int(base.length);
        yield new Uint8Array([...base.subarray(0, cut), ...other.subarray(int(other.length))]);
        break;
      }
      default: {
        const input = base.slice();
        const at = int(input.length);
        input[at] = [0x00, 0x7f, 0x80, 0xff][int(4)]!;
        yield input;
        break;
      }
    }
  }
}
