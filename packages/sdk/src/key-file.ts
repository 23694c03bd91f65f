import { loadKeyFile } from "@tally/config";
import type { TxSigner } from "@tally/ledger";

/** An institution's signer from its key file (mode 0600). */
export function signerFromKeyFile(path: string): TxSigner {
  const k = loadKeyFile(path);
  return { institutionId: k.owner, keyId: k.keyId, key: k.key };
}
