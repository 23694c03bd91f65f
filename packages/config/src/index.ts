// The public surface of @tally/config, named one by one.
export { Env, ConfigError } from "./env.js";
export {
  loadGenesis,
  loadKeyFile,
  writeKeyFile,
  keyPassphrase,
  KEY_PASSPHRASE_VAR,
  KEY_PASSPHRASE_FILE_VAR,
  type KeyFile,
  type KeyPassphrase,
  type LoadedKey,
} from "./files.js";
export { parseClientCertMap, loadClientCertMap, type ClientCertMap } from "./client-cert-map.js";
export {
  gatewayConfig,
  sequencerConfig,
  blockstoreConfig,
  executorConfig,
  regfeedConfig,
  configOrExit,
  EXIT_CONFIG,
  LOG_LEVELS,
  type Addr,
  type CommonConfig,
  type GatewayConfig,
  type GatewayTlsFiles,
  type SequencerConfig,
  type BlockstoreConfig,
  type ExecutorConfig,
  type RegfeedConfig,
} from "./services.js";
