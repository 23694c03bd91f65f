// The supervision console: a single page over regfeed's console API (same-origin JSON and SSE).
// Identity: in loopback mode the page is opened once as /?as=<id> and the server keeps that in a
// same-site cookie; with mTLS it is the client certificate. Non-regulators get 403.
import "./style.css";
import { toHex, verifyProof, type ProofJson } from "./verify.js";

const app = document.getElementById("app")!;

/** Creates an element with attributes and children (strings become text nodes: nothing is parsed as HTML). */
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

const time = (ms: number | string): string => new Date(Number(ms)).toISOString().replace("T", " ").slice(0, 23);
const short = (hex: string): string => (hex.length > 16 ? `${hex.slice(0, 16)}…` : hex);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, { credentials: "same-origin", ...init });
  const body = (await r.json().catch(() => ({}))) as { error?: string; reason?: string };
  if (!r.ok) throw new HttpError(r.status, `${r.status} ${body.reason ?? ""}: ${body.error ?? r.statusText}`);
  return body as T;
}

function showError(e: unknown): void {
  app.replaceChildren(el("section", { class: "error", id: "error" }, e instanceof Error ? e.message : String(e)));
}

// ---- pages ----
let closePage: () => void = () => undefined;

interface LiveSnapshot {
  height: string;
  blockHash: string;
  stateRoot: string;
  tipTimeMs: string;
  windowMs: number;
  blockRate: number;
  txPerSecond: { contract: string; count: number; perSecond: number }[];
  sequencer: { id: string; epoch: string };
  failovers: { height: string; from: string; to: string; epoch: string; timeMs: string }[];
  finality: { height: string; lagMs: string | null };
  nodes: { id: string; height: string | null; lagBlocks: string | null; stateRoot: string; agreement: string }[];
  recentBlocks: { height: string; hash: string; txCount: number; sequencerId: string; epoch: string; timeMs: string }[];
  updates: number;
}

function renderLive(s: LiveSnapshot): void {
  const stat = (label: string, value: string, id: string): HTMLElement => el("div", { class: "stat" }, el("b", { id }, value), label);
  app.replaceChildren(
    el(
      "section",
      {},
      el("h2", {}, "Chain"),
      el(
        "div",
        { class: "stats" },
        stat("chain height", s.height, "chain-height"),
        stat(`blocks/s (last ${s.windowMs / 1000} s)`, s.blockRate.toFixed(2), "block-rate"),
        stat("master sequencer", s.sequencer.id || "(none yet)", "sequencer"),
        stat("epoch", s.sequencer.epoch, "epoch"),
        stat("final height", s.finality.height, "final-height"),
        stat("last finality lag", s.finality.lagMs === null ? "-" : `${s.finality.lagMs} ms`, "finality-lag"),
      ),
      el("p", { class: "muted" }, `state root ${short(s.stateRoot)} · live update #${s.updates}`),
    ),
    el(
      "section",
      {},
      el("h2", {}, "Transactions per second by contract"),
      table(
        ["contract", "txs in window", "tx/s"],
        s.txPerSecond.map((t) => [t.contract, String(t.count), t.perSecond.toFixed(2)]),
        "tx-rates",
      ),
    ),
    el(
      "section",
      {},
      el("h2", {}, "Nodes"),
      table(
        ["node", "height", "behind (blocks)", "state root", "agreement"],
        s.nodes.map((n) => [n.id, n.height ?? "-", n.lagBlocks ?? "-", short(n.stateRoot), n.agreement]),
        "nodes",
      ),
    ),
    el(
      "section",
      {},
      el("h2", {}, "Failovers"),
      s.failovers.length === 0
        ? el("p", { class: "muted", id: "failovers" }, "none")
        : table(
            ["height", "from", "to", "epoch", "time"],
            s.failovers.map((f) => [f.height, f.from, f.to, f.epoch, time(f.timeMs)]),
            "failovers",
          ),
    ),
    el(
      "section",
      {},
      el("h2", {}, "Newest blocks"),
      table(
        ["height", "hash", "txs", "sequencer", "epoch", "time"],
        s.recentBlocks.map((b) => [b.height, short(b.hash), String(b.txCount), b.sequencerId, b.epoch, time(b.timeMs)]),
        "recent-blocks",
      ),
    ),
  );
}

function table(head: string[], rows: (string | Node)[][], id: string): HTMLElement {
  return el(
    "table",
    { id },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))),
  );
}

function livePage(): () => void {
  app.replaceChildren(el("p", { class: "muted" }, "connecting…"));
  const es = new EventSource("/api/live");
  es.addEventListener("live", (m) => renderLive(JSON.parse((m as MessageEvent<string>).data) as LiveSnapshot));
  es.addEventListener("failure", (m) => showError(new Error((m as MessageEvent<string>).data)));
  return () => es.close();
}

interface AlertJson {
  seq: string;
  rule: string;
  height: string;
  assetId: string;
  subjects: string[];
  summary: string;
  acked: boolean;
  ackedBy: string;
  ackNote: string;
  blockTimeMs: string;
}

function alertsPage(): () => void {
  const body = el("tbody");
  const rows = new Map<string, HTMLElement>();
  const row = (a: AlertJson): HTMLElement => {
    const action = a.acked
      ? el("span", { class: "ok" }, `acknowledged by ${a.ackedBy}${a.ackNote ? `: ${a.ackNote}` : ""}`)
      : el("button", { "data-ack": a.seq }, "acknowledge");
    if (!a.acked)
      action.addEventListener("click", () => {
        const note = prompt("note (optional)") ?? "";
        api<{ alert: AlertJson }>(`/api/alerts/${a.seq}/ack`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ note }),
        })
          .then((r) => put(r.alert))
          .catch(showError);
      });
    return el(
      "tr",
      { "data-seq": a.seq },
      ...[a.seq, a.rule, a.height, a.assetId, a.subjects.join(", "), a.summary].map((c) => el("td", {}, c)),
      el("td", {}, action),
    );
  };
  const put = (a: AlertJson): void => {
    const r = row(a);
    const old = rows.get(a.seq);
    if (old !== undefined) old.replaceWith(r);
    else body.prepend(r);
    rows.set(a.seq, r);
  };
  app.replaceChildren(
    el(
      "section",
      {},
      el("h2", {}, "Alerts (newest first, live)"),
      el(
        "table",
        { id: "alerts" },
        el("thead", {}, el("tr", {}, ...["seq", "rule", "height", "asset", "concerns", "summary", ""].map((h) => el("th", {}, h)))),
        body,
      ),
    ),
  );
  const es = new EventSource("/api/alerts/stream?after=0");
  es.addEventListener("alert", (m) => put(JSON.parse((m as MessageEvent<string>).data) as AlertJson));
  return () => es.close();
}

interface HistoryJson {
  assetId: string;
  contract: string;
  height: string;
  more: boolean;
  lineage: string[];
  entries: {
    height: string;
    txIndex: number;
    eventIndex: number;
    txId: string;
    contract: string;
    type: string;
    assetId: string;
    signers: string[];
    parties: string[];
    data: unknown;
    blockTimeMs: string;
  }[];
}

/** The lineage as a tree: an id's parent is the longest other id it extends with ".<n>". */
function lineageTree(ids: string[], current: string): HTMLElement {
  const all = [...new Set([...ids, current])].sort();
  const parent = (id: string): string | undefined => {
    for (let p = id.lastIndexOf("."); p > 0; p = id.lastIndexOf(".", p - 1)) if (all.includes(id.slice(0, p))) return id.slice(0, p);
    return undefined;
  };
  const kids = (p: string | undefined): string[] => all.filter((id) => parent(id) === p);
  const node = (id: string): HTMLElement => {
    const k = kids(id);
    const link = el("a", { href: `#history/${encodeURIComponent(id)}`, class: id === current ? "current" : "", "data-asset": id }, id);
    return el("li", {}, link, ...(k.length === 0 ? [] : [el("ul", {}, ...k.map(node))]));
  };
  return el("ul", { class: "tree", id: "lineage" }, ...kids(undefined).map(node));
}

function historyPage(arg: string): () => void {
  const input = el("input", {
    id: "history-query",
    size: "70",
    placeholder: "asset id (e.g. bill/b-1) or tx id (64 hex)",
    value: arg,
  }) as HTMLInputElement;
  const out = el("div", { id: "history-result" });
  const form = el("form", {}, input, " ", el("button", { type: "submit" }, "search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#history/${encodeURIComponent(input.value.trim())}`;
  });
  app.replaceChildren(el("section", {}, el("h2", {}, "Asset history"), form), out);
  if (arg !== "")
    api<HistoryJson>(`/api/history?q=${encodeURIComponent(arg)}`)
      .then((h) => {
        out.replaceChildren(
          el(
            "section",
            {},
            el(
              "h2",
              {},
              `${h.contract ? `${h.contract}/` : ""}${h.assetId}: ${h.entries.length} events${h.more ? " (more follow)" : ""}, chain height ${h.height}`,
            ),
            el(
              "ol",
              { class: "timeline", id: "timeline" },
              ...h.entries.map((e) =>
                el(
                  "li",
                  { "data-type": e.type, "data-asset": e.assetId },
                  el("b", {}, `${e.contract}.${e.type}`),
                  ` ${e.assetId} at height ${e.height} (${time(e.blockTimeMs)}) signed by `,
                  el("span", { class: "signers" }, e.signers.join(" + ")),
                  " · tx ",
                  el("a", { href: `#explorer/tx/${e.txId}`, class: "mono" }, short(e.txId)),
                  el("div", { class: "mono muted" }, JSON.stringify(e.data)),
                ),
              ),
            ),
          ),
          el("section", {}, el("h2", {}, "Lineage"), lineageTree(h.lineage, h.assetId)),
        );
      })
      .catch((e: unknown) => out.replaceChildren(el("section", { class: "error", id: "error" }, (e as Error).message)));
  return () => undefined;
}

interface BlockJson {
  height: string;
  txCount: number;
  hash: string;
  prevHash: string;
  txRoot: string;
  timeMs: string;
  sequencerId: string;
  epoch: string;
  txs: { txIndex: number; txId: string; signer: string; contract: string; action: string; committed: boolean | null; reasonCode: string }[];
}

function explorerPage(arg: string): () => void {
  const [kind, id] = arg.split("/");
  const out = el("div", { id: "explorer-result" });
  const input = el("input", { id: "explorer-query", size: "70", placeholder: "height or tx id" }) as HTMLInputElement;
  const form = el("form", {}, input, " ", el("button", { type: "submit" }, "open"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = input.value.trim();
    location.hash = /^\d+$/.test(v) ? `#explorer/block/${v}` : `#explorer/tx/${v}`;
  });
  app.replaceChildren(el("section", {}, el("h2", {}, "Blocks and transactions"), form), out);
  const fail = (e: unknown): void => out.replaceChildren(el("section", { class: "error", id: "error" }, (e as Error).message));
  if (kind === "block" && id !== undefined) {
    api<BlockJson>(`/api/blocks/${id}`)
      .then((b) =>
        out.replaceChildren(
          el(
            "section",
            {},
            el("h2", {}, `Block ${b.height}`),
            el("p", { class: "mono" }, `hash ${b.hash}`, el("br"), `prev ${b.prevHash}`, el("br"), `tx root ${b.txRoot}`),
            el("p", {}, `${time(b.timeMs)} · sequencer ${b.sequencerId} · epoch ${b.epoch}`),
            table(
              ["#", "tx", "signer", "contract.action", "outcome"],
              b.txs.map((t) => [
                String(t.txIndex),
                el("a", { href: `#explorer/tx/${t.txId}`, class: "mono" }, short(t.txId)),
                t.signer,
                `${t.contract}.${t.action}`,
                t.committed === null ? "not executed yet" : t.committed ? "committed" : `rejected ${t.reasonCode}`,
              ]),
              "block-txs",
            ),
          ),
        ),
      )
      .catch(fail);
  } else if (kind === "tx" && id !== undefined) {
    api<ProofJson & { signer: string; contract: string; action: string; committed: boolean | null; reasonCode: string }>(`/api/txs/${id}`)
      .then(async (t) => {
        const check = await verifyProof(t);
        const mark = (ok: boolean | "unsupported"): HTMLElement =>
          el(
            "span",
            { class: ok === true ? "ok" : "bad" },
            ok === true ? "✔ verified" : ok === "unsupported" ? "not supported by this browser" : "✘ FAILED",
          );
        out.replaceChildren(
          el(
            "section",
            {},
            el("h2", {}, `Transaction ${short(t.txId)}`),
            el("p", { class: "mono" }, t.txId),
            el(
              "p",
              {},
              `${t.contract}.${t.action} signed by ${t.signer}, `,
              el("a", { href: `#explorer/block/${t.height}` }, `block ${t.height}`),
              `, leaf ${t.leafIndex} of ${t.treeSize}`,
            ),
            el("h2", {}, "Checked in this browser (WebCrypto)"),
            table(
              ["check", "result"],
              [
                ["tx id = SHA-256 of the signed body", mark(check.txIdMatches)],
                ["header is of this height and holds this many txs", mark(check.heightMatches)],
                ["RFC 6962 path leads to the header's tx root", mark(check.rootMatches)],
                [`sequencer ${check.sequencerId} (epoch ${check.epoch}) signed the block hash (Ed25519)`, mark(check.signature)],
              ],
              "proof-checks",
            ),
            el(
              "p",
              { class: "mono muted" },
              `block hash ${check.blockHash}`,
              el("br"),
              `computed root ${check.computedRoot}`,
              el("br"),
              `header root ${check.headerRoot}`,
            ),
            el("p", { id: "proof-result", class: check.ok ? "ok" : "bad" }, check.ok ? "INCLUDED: proof verified" : "NOT VERIFIED"),
          ),
        );
      })
      .catch(fail);
  } else {
    api<{ blocks: BlockJson[] }>("/api/blocks")
      .then((r) =>
        out.replaceChildren(
          el(
            "section",
            {},
            el("h2", {}, "Newest blocks"),
            table(
              ["height", "hash", "txs", "sequencer", "time"],
              r.blocks.map((b) => [
                el("a", { href: `#explorer/block/${b.height}` }, b.height),
                short(b.hash),
                String(b.txCount),
                b.sequencerId,
                time(b.timeMs),
              ]),
              "blocks",
            ),
          ),
        ),
      )
      .catch(fail);
  }
  return () => undefined;
}

function accessPage(): () => void {
  api<{ entries: { id: string; atMs: string; caller: string; rpc: string; request: unknown }[] }>("/api/access-log?newest=1&limit=200")
    .then((r) =>
      app.replaceChildren(
        el(
          "section",
          {},
          el("h2", {}, "Access log (newest first): who looked at what"),
          table(
            ["id", "time", "who", "what", "request"],
            r.entries.map((e) => [e.id, time(e.atMs), e.caller, e.rpc, el("span", { class: "mono" }, JSON.stringify(e.request))]),
            "access-log",
          ),
        ),
      ),
    )
    .catch(showError);
  return () => undefined;
}

function route(): void {
  closePage();
  const [page = "live", ...rest] = decodeURIComponent(location.hash.slice(1)).split("/");
  const arg = rest.join("/");
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("data-page") === page);
  closePage =
    page === "alerts"
      ? alertsPage()
      : page === "history"
        ? historyPage(arg)
        : page === "explorer"
          ? explorerPage(arg)
          : page === "access"
            ? accessPage()
            : livePage();
}

api<{ institution: string; roles: string[] }>("/api/whoami")
  .then((me) => {
    document.getElementById("who")!.textContent = `${me.institution} (${me.roles.join(", ")})`;
    window.addEventListener("hashchange", route);
    route();
  })
  .catch(showError);

// Exported for the console's own tests in the browser.
(window as unknown as { tallyConsole: unknown }).tallyConsole = { verifyProof, toHex };
