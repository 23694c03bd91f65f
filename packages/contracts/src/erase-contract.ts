import type { Contract, QuerySpec } from "./contract.js";

/**
 * Forgets a contract's command type so contracts with different commands share one registry.
 * Sound because the run pipeline only ever hands decide and keys a command that the same
 * contract's own parse produced.
 */
export function eraseContract<C>(contract: Contract<C>): Contract {
  return contract as unknown as Contract;
}

/** Forgets a query's type, for the same reason and with the same guarantee as eraseContract. */
export function eraseQuery<Q>(query: QuerySpec<Q>): QuerySpec<unknown> {
  return query as unknown as QuerySpec<unknown>;
}
