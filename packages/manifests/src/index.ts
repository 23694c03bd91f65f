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
