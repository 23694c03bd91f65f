/** Hard limits every node enforces identically. Changing one is a chain-config change. */
export const LIMITS = {
  /** Largest encoded SignedTx accepted anywhere. */
  txBytesMax: 64 * 1024,
  /** Most signatures on one SignedTx. */
  txSignaturesMax: 8,
  /** Longest identifier (institution, key, contract, action, chain). */
  idLengthMax: 64,
} as const;
