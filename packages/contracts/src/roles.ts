import { ROLES } from "@tally/ledger";

/** Every role Tally knows: an action open to these is open to any member that holds a role. */
export const ANY_ROLE: readonly string[] = ROLES;

/** Roles that may write business state: every role except the regulator, which only reads. */
export const WRITER_ROLES: readonly string[] = ROLES.filter((r) => r !== "regulator");
