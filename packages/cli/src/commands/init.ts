import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busNames, natsAuthorizationConf, natsPasswordVars, natsUsers } from "@tally/bus";
import { loadGenesis } from "@tally/config";
import type { Genesis } from "@tally/ledger";
import { PASSWORD_RE } from "@tally/manifests/generate";
import { gatewayInstitutionsOf, SAMPLE_CONSORTIUM, writeConsortium } from "@tally/testkit";
import { randomNatsPassword } from "./bus.js";

/**
 * `tally init`: keys (mode 0600), a genesis file for the sample consortium and its NATS users
 * (nats/authorization.conf and nats/passwords.json, mode 0600), unless they exist.
 */
export function init(dir: string, force: boolean): string {
  const genesisFile = join(dir, "genesis.json");
  if (existsSync(genesisFile) && !force) {
    console.log(`${genesisFile} exists; keeping it (use --force to make a new chain)`);
    // A directory from before `tally init` wrote the NATS users gets them now.
    writeNatsUsers(dir, loadGenesis(genesisFile), false);
    return genesisFile;
  }
  const files = writeConsortium(dir, SAMPLE_CONSORTIUM, Date.now());
  console.log(`wrote ${files.genesisFile} and ${files.keyFiles.size} keys under ${join(dir, "keys")}`);
  writeNatsUsers(dir, files.genesis, true);
  return files.genesisFile;
}

/** The NATS users `tally init` writes and `tally up` runs its nats-server with. */
export interface LocalNatsUsers {
  /** nats/authorization.conf: the users and permissions, each password $TALLY_NATS_PASSWORD_<USER>. */
  readonly authorizationFile: string;
  /** nats/passwords.json (mode 0600): each user's password. */
  readonly passwordsFile: string;
  readonly passwords: Readonly<Record<string, string>>;
  /** The nats-server's environment: TALLY_NATS_PASSWORD_<USER> for every user of the file. */
  readonly serverEnv: Readonly<Record<string, string>>;
}

/** The bus namespace the local network runs in (tally up with its own nats-server). */
export function localBusNamespace(): string {
  return process.env.TALLY_NAMESPACE ?? "tally";
}

const NAMESPACE_LINE = /^# bus namespace: (\S+)$/m;

/**
 * Writes dir/nats/authorization.conf and dir/nats/passwords.json (both mode 0600, in a 0700
 * folder) for the genesis: one user per role (natsUsers). fresh: a new chain, new passwords.
 * Otherwise files that exist are kept; a missing one is written, keeping the passwords already
 * in passwords.json (those nats-server can read from its environment).
 */
export function writeNatsUsers(dir: string, genesis: Genesis, fresh: boolean): LocalNatsUsers {
  const natsDir = join(dir, "nats");
  mkdirSync(natsDir, { recursive: true, mode: 0o700 });
  chmodSync(natsDir, 0o700);
  const authorizationFile = join(natsDir, "authorization.conf");
  const passwordsFile = join(natsDir, "passwords.json");
  const namespace = localBusNamespace();
  if (!fresh && existsSync(authorizationFile) && existsSync(passwordsFile)) return readNatsUsers(dir, namespace);
  const users = natsUsers(genesis, busNames(namespace), { gatewayInstitutions: gatewayInstitutionsOf(SAMPLE_CONSORTIUM) });
  const vars = natsPasswordVars(users);
  const known = !fresh && existsSync(passwordsFile) ? readPasswords(passwordsFile) : {};
  const passwords: Record<string, string> = {};
  for (const u of users) {
    const k = known[u.user];
    passwords[u.user] = k !== undefined && PASSWORD_RE.test(k) ? k : randomNatsPassword();
  }
  writeSecretFile(passwordsFile, JSON.stringify(passwords, null, 2) + "\n");
  const header = [
    `# The NATS users of chain ${genesis.chainId}, one per role (docs/security.md), written by \`tally init\`.`,
    "# Each password is read from the nats-server's environment; `tally up` sets it from passwords.json.",
    `# bus namespace: ${namespace}`,
    "",
  ].join("\n");
  writeSecretFile(authorizationFile, header + natsAuthorizationConf(users, (u) => `$${vars.get(u)!}`));
  console.log(`wrote the NATS users (${users.length}) to ${authorizationFile} and ${passwordsFile}`);
  return readNatsUsers(dir, namespace);
}

/**
 * Reads what writeNatsUsers wrote, checking that every user of authorization.conf has a password
 * and that it was written for this bus namespace; a problem throws naming the file.
 */
export function readNatsUsers(dir: string, namespace: string): LocalNatsUsers {
  const authorizationFile = join(dir, "nats", "authorization.conf");
  const passwordsFile = join(dir, "nats", "passwords.json");
  const redo = `delete ${authorizationFile} and run \`tally init\` to write it again`;
  let conf: string;
  try {
    conf = readFileSync(authorizationFile, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${authorizationFile}: ${(e as Error).message}; run \`tally init\``);
  }
  const written = NAMESPACE_LINE.exec(conf)?.[1];
  if (written !== namespace) throw new Error(`${authorizationFile} is for bus namespace ${written ?? "(none)"}, not ${namespace}: ${redo}`);
  const passwords = readPasswords(passwordsFile);
  const serverEnv: Record<string, string> = {};
  const entries = [...conf.matchAll(/user: "([^"]+)"\n\s*password: \$([A-Z0-9_]+)\n/g)];
  if (entries.length === 0) throw new Error(`${authorizationFile} names no user: ${redo}`);
  for (const [, user, variable] of entries) {
    const pw = passwords[user!];
    if (pw === undefined) throw new Error(`${passwordsFile} has no password for NATS user ${user}: ${redo}`);
    if (!PASSWORD_RE.test(pw))
      throw new Error(`${passwordsFile}: the password of ${user} is not one nats-server can read from its environment: ${redo}`);
    serverEnv[variable!] = pw;
  }
  return { authorizationFile, passwordsFile, passwords, serverEnv };
}

function readPasswords(file: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json) || Object.values(json).some((v) => typeof v !== "string"))
    throw new Error(`${file} must be a JSON object of user → password`);
  return json as Record<string, string>;
}

function writeSecretFile(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}
