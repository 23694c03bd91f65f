// A Bloom filter of the tx ids a node has applied, so the gateway can skip the database lookup
// that tells a resubmission from a new transaction: "certainly never applied" needs no query.
// Tx ids are SHA-256 digests, uniformly distributed, so the filter's k bit positions are taken
// straight from the id's bytes (no hashing). It grows as a chain of filters, each twice the size
// of the previous (a scalable Bloom filter), and gives up past a bound: then every id "may have
// been seen" and the gateway asks the database, as it would without a filter.

/** Bits per id and positions per id: about a 1 % false-positive rate per stage. */
const BITS_PER_ID = 10;
const POSITIONS = 7;

class Stage {
  readonly bits: Uint32Array;
  readonly mask: number;
  count = 0;

  constructor(
    readonly capacity: number,
    /** Which 4-byte words of the id this stage reads (stages read different words). */
    readonly offset: number,
  ) {
    // A power of two of bits, so a position is a mask of a 32-bit word.
    let bits = 1024;
    while (bits < capacity * BITS_PER_ID) bits *= 2;
    this.bits = new Uint32Array(bits / 32);
    this.mask = bits - 1;
  }

  private position(id: Uint8Array, i: number): number {
    // 7 positions from the id's 8 words, starting at this stage's offset: (offset + i) mod 8.
    const o = ((this.offset + i) % 8) * 4;
    return ((id[o]! | (id[o + 1]! << 8) | (id[o + 2]! << 16) | (id[o + 3]! << 24)) >>> 0) & this.mask;
  }

  add(id: Uint8Array): void {
    for (let i = 0; i < POSITIONS; i++) {
      const p = this.position(id, i);
      this.bits[p >>> 5]! |= 1 << (p & 31);
    }
    this.count++;
  }

  has(id: Uint8Array): boolean {
    for (let i = 0; i < POSITIONS; i++) {
      const p = this.position(id, i);
      if ((this.bits[p >>> 5]! & (1 << (p & 31))) === 0) return false;
    }
    return true;
  }
}

/** A growing Bloom filter over 32-byte tx ids. No false negatives; about 1 % false positives per stage. */
export class SeenTxFilter {
  private readonly stages: Stage[] = [];
  private total = 0;
  private overflowed = false;

  constructor(
    /** Ids at most; past it the filter stops answering "never seen" (bounded memory: ~1.25 MB per million ids). */
    readonly maxIds = 20_000_000,
    private readonly firstCapacity = 1 << 16,
  ) {}

  /** How many ids were added. */
  get size(): number {
    return this.total;
  }

  /** False once the bound was passed: every id then may have been seen. */
  get usable(): boolean {
    return !this.overflowed;
  }

  add(id: Uint8Array): void {
    if (id.byteLength !== 32) throw new TypeError("tx ids are 32 bytes");
    if (this.overflowed) return;
    if (this.total >= this.maxIds) {
      // Free the memory: the filter can no longer say "never seen".
      this.overflowed = true;
      this.stages.length = 0;
      return;
    }
    let last = this.stages.at(-1);
    if (last === undefined || last.count >= last.capacity) {
      last = new Stage(last === undefined ? this.firstCapacity : last.capacity * 2, this.stages.length + 1);
      this.stages.push(last);
    }
    last.add(id);
    this.total++;
  }

  /** False only when the id was certainly never added. */
  mayContain(id: Uint8Array): boolean {
    if (this.overflowed || id.byteLength !== 32) return true;
    for (const s of this.stages) if (s.has(id)) return true;
    return false;
  }
}
