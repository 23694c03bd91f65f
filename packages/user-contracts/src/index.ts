// The public surface of @tally/user-contracts: the sandbox and the registry of deployed contracts.
export { SandboxEngine, LoadedCode, POLLS_PER_STEP, STACK_BYTES_MAX, LOAD_STEP_LIMIT, type CallOutcome } from "./engine.js";
export { SandboxHost, UserContractRegistry, readManifest, versionedName, MANIFEST_LIMITS } from "./host.js";
export { parseManifest, parseDeclaredArgs, ARG_TYPES, type Manifest } from "./manifest.js";
export { userContract, brokenContract, checkDecision, contextJson, type DeployedVersion, type SandboxCaller } from "./user-contract.js";
export { FORBIDDEN_GLOBAL_ERROR, TRAPPED_GLOBALS } from "./prelude.js";
