// A letter of credit as a Tally user contract (docs/user-contracts.md).
//
// The issuing bank opens a letter of credit for an applicant, in favour of a beneficiary, naming
// the documents it needs; the beneficiary presents each document by its sha256; once every
// document is in, the issuing bank pays. State: `lc/<id>` → the letter.
//
// A user contract is a CommonJS-style script that sets module.exports. It runs in a sandbox with
// the JavaScript language only: no clock (use ctx.blockTimeMs), no randomness, no I/O.

const key = (id) => "lc/" + id;
const reject = (code, message) => ({ reject: { code, message } });

module.exports = {
  actions: {
    issue: {
      roles: ["bank"],
      args: {
        id: "identifier",
        applicant: "identifier",
        beneficiary: "identifier",
        amount: "amount",
        currency: "string",
        documents: "string",
        expiresAtMs: "integer",
      },
    },
    present: { roles: ["enterprise", "exchange", "warehouse", "bank"], args: { id: "identifier", document: "string", hash: "hex32" } },
    pay: { roles: ["bank"], args: { id: "identifier" } },
  },

  queries: {
    letter: { args: { id: "identifier" } },
  },

  keys(command) {
    return [key(command.args.id)];
  },

  decide(command, state, ctx) {
    const a = command.args;
    const lc = state[key(a.id)];
    switch (command.action) {
      case "issue": {
        if (lc !== undefined) return reject("LC_EXISTS", "letter of credit " + a.id + " already exists");
        if (!(a.applicant in ctx.members)) return reject("UNKNOWN_PARTY", a.applicant + " is not a member");
        if (!(a.beneficiary in ctx.members)) return reject("UNKNOWN_PARTY", a.beneficiary + " is not a member");
        if (a.expiresAtMs <= ctx.blockTimeMs) return reject("EXPIRY_IN_PAST", "the letter would expire before the block time");
        const documents = a.documents
          .split(",")
          .map((d) => d.trim())
          .filter((d) => d.length > 0);
        if (documents.length === 0 || new Set(documents).size !== documents.length) {
          return reject("BAD_DOCUMENTS", "documents must list distinct document names, comma-separated");
        }
        return [
          {
            type: "CreditIssued",
            assetId: key(a.id),
            parties: [ctx.signer, a.applicant, a.beneficiary],
            data: {
              id: a.id,
              issuer: ctx.signer,
              applicant: a.applicant,
              beneficiary: a.beneficiary,
              amount: a.amount,
              currency: a.currency,
              documents,
              expiresAtMs: a.expiresAtMs,
              issuedAtMs: ctx.blockTimeMs,
            },
          },
        ];
      }
      case "present": {
        if (lc === undefined) return reject("LC_NOT_FOUND", "no letter of credit " + a.id);
        if (ctx.signer !== lc.beneficiary) return reject("NOT_BENEFICIARY", "only " + lc.beneficiary + " presents documents");
        if (lc.status !== "issued") return reject("LC_CLOSED", "letter of credit " + a.id + " is " + lc.status);
        if (ctx.blockTimeMs > lc.expiresAtMs) return reject("LC_EXPIRED", "letter of credit " + a.id + " has expired");
        if (!lc.documents.includes(a.document)) return reject("DOCUMENT_NOT_REQUIRED", a.document + " is not required");
        if (a.document in lc.presented) return reject("ALREADY_PRESENTED", a.document + " was already presented");
        return [
          {
            type: "DocumentPresented",
            assetId: key(a.id),
            parties: [lc.issuer, lc.applicant, lc.beneficiary],
            data: { id: a.id, document: a.document, hash: a.hash, presentedAtMs: ctx.blockTimeMs },
          },
        ];
      }
      case "pay": {
        if (lc === undefined) return reject("LC_NOT_FOUND", "no letter of credit " + a.id);
        if (ctx.signer !== lc.issuer) return reject("NOT_ISSUER", "only " + lc.issuer + " pays");
        if (lc.status !== "issued") return reject("LC_CLOSED", "letter of credit " + a.id + " is " + lc.status);
        const missing = lc.documents.filter((d) => !(d in lc.presented));
        if (missing.length > 0) return reject("DOCUMENTS_MISSING", "still missing: " + missing.join(", "));
        return [
          {
            type: "CreditPaid",
            assetId: key(a.id),
            parties: [lc.issuer, lc.applicant, lc.beneficiary],
            data: { id: a.id, amount: lc.amount, currency: lc.currency, paidAtMs: ctx.blockTimeMs },
          },
        ];
      }
      default:
        throw new Error("unknown action " + command.action);
    }
  },

  evolve(state, event) {
    const d = event.data;
    const lc = state[key(d.id)];
    switch (event.type) {
      case "CreditIssued":
        return {
          [key(d.id)]: {
            id: d.id,
            issuer: d.issuer,
            applicant: d.applicant,
            beneficiary: d.beneficiary,
            amount: d.amount,
            currency: d.currency,
            documents: d.documents,
            presented: {},
            expiresAtMs: d.expiresAtMs,
            status: "issued",
            parties: event.parties,
          },
        };
      case "DocumentPresented":
        return { [key(d.id)]: { ...lc, presented: { ...lc.presented, [d.document]: d.hash } } };
      case "CreditPaid":
        return { [key(d.id)]: { ...lc, status: "paid", paidAtMs: d.paidAtMs } };
      default:
        throw new Error("unknown event " + event.type);
    }
  },
};

// Queries run with the keys they name and the state under them; the gateway shows a letter only
// to its parties.
module.exports.queries.letter.keys = (args) => [key(args.id)];
module.exports.queries.letter.run = (args, state) => state[key(args.id)] ?? null;
