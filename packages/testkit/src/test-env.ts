import { randomBytes } from "node:crypto";
import { createDatabaseIfMissing, databaseUrl, dropDatabase } from "@tally/db";

/** The NATS server tests use: NATS_URL, else the machine's local server. */
export const testNatsUrl = (): string => process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A PostgreSQL URL with rights to create databases: DATABASE_URL, else the machine's local server. */
export const testPgAdminUrl = (): string => process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A short random suffix for names that must not collide between test runs. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString("hex");
}

/** A bus namespace of this test's own. */
export function uniqueNamespace(prefix = "t"): string {
  return `${prefix}${uniqueSuffix()}`;
}

/** A database of this test's own, dropped by drop(). */
export async function createTestDatabase(prefix = "tally_test"): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const admin = testPgAdminUrl();
  const name = `${prefix}_${uniqueSuffix()}`;
  await createDatabaseIfMissing(admin, name);
  return { url: databaseUrl(admin, name), name, drop: () => dropDatabase(admin, name) };
}
