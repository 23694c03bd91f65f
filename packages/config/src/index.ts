// The public surface of @tally/config, named one by one.
export { Env, ConfigError } from "./env.js";
export { loadGenesis, loadKeyFile, writeKeyFile, type KeyFile, type LoadedKey } from "./files.js";
export { parseClientCertMap, loadClientCertMap, type ClientCertMap } from "./client-cert-map.js";
