import { credentials } from "@grpc/grpc-js";
import { RegFeedServiceClient } from "@tally/proto/regfeed";
import { mtlsChannelCredentials } from "@tally/rpc";
import { loadGenesis } from "@tally/config";
import { TallyClient, signerFromKeyFile } from "@tally/sdk";
import type { TxSigner } from "@tally/ledger";
import type { readNetwork } from "./paths.js";

type Network = ReturnType<typeof readNetwork>;

/** A client of an institution's own gateway, signing with its key file (or the signer given). */
export function clientFor(net: Network, institutionId: string, trustGenesis = false, signer?: TxSigner): TallyClient {
  const inst = net.institutions.find((i) => i.id === institutionId);
  if (inst === undefined) throw new Error(`unknown institution ${institutionId}; known: ${net.institutions.map((i) => i.id).join(", ")}`);
  // mTLS with the institution's client certificate when the consortium has one (tally up makes them).
  const creds = inst.tls !== undefined ? mtlsChannelCredentials(inst.tls) : credentials.createInsecure();
  // With trustGenesis the client checks proofs against the network's genesis file, trusting no gateway.
  const extras = trustGenesis ? { genesis: loadGenesis(net.genesisFile) } : {};
  return new TallyClient(inst.gateway, net.chainId, signer ?? signerFromKeyFile(inst.keyFile), creds, Date.now, extras);
}

/** A client of the regulator's event feed. */
export function regfeedClient(net: Network): RegFeedServiceClient {
  return new RegFeedServiceClient(net.regfeed, credentials.createInsecure());
}
