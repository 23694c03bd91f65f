// The public surface of @tally/manifests, named one by one.
export { kustomize, parseObjects, render, refOf, KUBECTL_HINT, type K8sObject } from "./render.js";
export { schemaErrors, modelModule } from "./schema.js";
export { unknownFields, unknownCnpgFields, hasModel, modelName, type UnknownField } from "./unknown-fields.js";
export {
  projectViolations,
  workloadViolations,
  secretViolations,
  namespaceViolations,
  regulatorViolations,
  natsViolations,
  sequencerViolations,
  nodeViolations,
  tallyService,
  workloads,
  REGULATOR_NAMESPACE,
  NATS_MIN_VERSION,
  TALLY_SERVICES,
} from "./rules.js";
export { checkOverlay, objectProblems } from "./check.js";
export {
  jobViolations,
  natsServerViolations,
  natsCredentialViolations,
  databaseRoleViolations,
  confBlock,
  NATS_CLIENT_SECRET,
  NATS_ADMIN_SECRET,
  NATS_SERVER_SECRET,
  DB_WRITER_SECRET,
  DB_READER_SECRET,
  DB_ADMIN_SECRET,
} from "./least-privilege.js";
export { podTemplates, jobs, tallyCli, secretValue } from "./pods.js";
