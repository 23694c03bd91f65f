import { fileURLToPath } from "node:url";

/** Path of the FileDescriptorSet built by `buf build` from proto/, used for gRPC server reflection. */
export const descriptorSetPath: string = fileURLToPath(new URL("../descriptor.binpb", import.meta.url));
