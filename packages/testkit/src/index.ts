// The public surface of @tally/testkit, named one by one.
export { freePort } from "./ports.js";
export { waitFor } from "./wait.js";
export { testNatsUrl, testPgAdminUrl, uniqueSuffix, uniqueNamespace, createTestDatabase } from "./test-env.js";
export { ServiceProcess, serviceEntry, repoRoot } from "./service-process.js";
export {
  SAMPLE_CONSORTIUM,
  writeConsortium,
  consortiumFilesIn,
  ensureConsortiumTls,
  gatewayCredentials,
  gatewayInstitutionsOf,
  type ConsortiumPlan,
  type ConsortiumFiles,
  type ConsortiumTls,
} from "./consortium.js";
export { createCertAuthority, issueCert, hasOpenssl, type CertAuthority, type IssuedCert } from "./tls-certs.js";
export { LocalNetwork, type LocalNetworkOptions, type NetworkFile } from "./local-network.js";
export { startTestNetwork, type TestNetwork, type TestNetworkOptions } from "./test-network.js";
export { findNatsServer, startNatsServer, NATS_INSTALL_HINT, type StartedNats } from "./nats-server.js";
export { startNatsCluster, type StartedNatsCluster, type NatsClusterServer } from "./nats-cluster.js";
export { signedTxFuzzInputs, seededRandom, FUZZ_SEED_DEFAULT } from "./signed-tx-fuzz.js";
