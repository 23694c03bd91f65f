import { credentials } from "@grpc/grpc-js";
import { RegFeedServiceClient } from "@tally/proto/regfeed";
import { mtlsChannelCredentials } from "@tally/rpc";
import { TallyClient, signerFromKeyFile } from "@tally/sdk";
import type { readNetwork } from "./paths.js";

type Network = ReturnType<typeof readNetwork>;

/** A client of an institution's own gateway, signing with its key. */
export function clientFor(net: Network, institutionId: string): TallyClient {
  const inst = net.institutions.find((i) => i.id === institutionId);
  if (inst === undefined) throw new Error(`unknown institution ${institutionId}; known: ${net.institutions.map((i) => i.id).join(", ")}`);
  // mTLS with the institution's client certificate when the consortium has one (tally up makes them).
  const creds = inst.tls !== undefined ? mtlsChannelCredentials(inst.tls) : credentials.createInsecure();
  return new TallyClient(inst.gateway, net.chainId, signerFromKeyFile(inst.keyFile), creds);
}

/** A client of the regulator's event feed. */
export function regfeedClient(net: Network): RegFeedServiceClient {
  return new RegFeedServiceClient(net.regfeed, credentials.createInsecure());
}
