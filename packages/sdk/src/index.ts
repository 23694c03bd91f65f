// The public surface of @tally/sdk, named one by one.
export { TallyClient, TallyError, type TxOptions, type SignedTransaction, type AssetHistoryEntry } from "./tally-client.js";
export { verifyInclusionProof, type InclusionProof } from "./verify-proof.js";
export { signerFromKeyFile } from "./key-file.js";
export { BulkSubmitter, type StreamedAck } from "./bulk-submitter.js";
