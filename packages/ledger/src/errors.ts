/**
 * An invariant violation: our own bug or a tampered input that must never be applied
 * (broken hash chain, height gap, bad block signature). Callers crash loudly on it.
 */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
