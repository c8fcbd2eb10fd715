import type { Root } from "react-dom/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PhloemClient } from "../../src/core";
import { mount } from "../../src/react";
import { createRegistry } from "../../src/registry";
import { fakeEnvironment, fakeNetwork, welcome } from "../helpers/fakeSocket";

// JobProgress: job state from the job store, never the tree (PHL-JOB-070); its projection
// (PHL-JOB-071); the cancel control sends job.cancel with the next event id (PHL-JOB-072).

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
  document.body.innerHTML = "";
  vi.useRealTimers();
});

const page = (props: Record<string, unknown> = { job: "j1", label: "Clustering", log: 2 }) => ({
  id: "root",
  type: "Column",
  children: [{ id: "jp", type: "JobProgress", props }],
});

function setup(root: object = page()) {
  const registry = createRegistry();
  const net = fakeNetwork();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/",
    components: registry.versions(),
    createSocket: net.factory,
    environment: fakeEnvironment(),
    random: () => 0.5,
  });
  const container = document.createElement("div");
  document.body.appendChild(container);
  const reactRoot: Root = mount(container, client, registry);
  client.start();
  const s = net.last();
  s.open();
  s.push(welcome(1, { version: "1.1", features: ["jobs"] }));
  s.push({ type: "ui.snapshot", seq: 2, rev: 1, root });
  cleanup.push(() => {
    client.stop();
    reactRoot.unmount();
  });
  const byId = (id: string) => container.querySelector<HTMLElement>(`[data-node-id="${id}"]`);
  return { client, s, byId };
}

describe("JobProgress", () => {
  it("offers 1.1 and the jobs feature in hello", () => {
    const { s } = setup();
    expect(s.ofType("hello")[0]).toMatchObject({ versions: ["1.1", "1.0"], features: ["jobs"] });
  });

  it("shows a job it has not heard of as queued, without a cancel control", () => {
    const { byId } = setup();
    const group = byId("jp");
    expect(group?.getAttribute("role")).toBe("group");
    expect(group?.getAttribute("aria-label")).toBe("Clustering");
    expect(group?.querySelector(".ph-job__text")?.textContent).toBe("queued");
    const bar = byId("jp/bar");
    expect(bar?.getAttribute("role")).toBe("progressbar");
    expect(bar?.getAttribute("aria-label")).toBe("Clustering");
    expect(bar?.hasAttribute("aria-valuenow")).toBe(false); // indeterminate
    expect(bar?.hasAttribute("aria-valuetext")).toBe(false);
    expect(byId("jp/cancel")).toBeNull();
  });

  // WAI-ARIA: a progressbar's descendants are presentational, so nothing a user must reach
  // (Cancel, the log) may sit inside it; the group holds the bar and them side by side.
  it("puts the bar, then Cancel, then the log side by side in a group named by the label", () => {
    const { byId, s } = setup();
    s.push({ type: "job.state", seq: 3, job: "j1", name: "fit", state: "running" });
    s.push({ type: "job.progress", seq: 4, job: "j1", fraction: 0.4, stage: "k = 3", eta: 30 });
    s.push({ type: "job.log", seq: 5, job: "j1", offset: 0, lines: ["a"] });
    const group = byId("jp") as HTMLElement;
    const nodes = [...group.querySelectorAll("[data-node-id]")];
    expect(nodes.map((n) => [n.getAttribute("data-node-id"), n.getAttribute("role") ?? n.tagName.toLowerCase()])).toEqual([
      ["jp/bar", "progressbar"],
      ["jp/cancel", "button"],
      ["jp/log", "div"], // no role: its projection's role is text (JobLog.tsx)
    ]);
    // No node or control inside the progressbar, and no role that hides its children around Cancel.
    const bar = byId("jp/bar") as HTMLElement;
    expect(bar.querySelector("[data-node-id], button, a, input")).toBeNull();
    for (let el = byId("jp/cancel")?.parentElement; el && el !== document.body; el = el.parentElement) {
      expect(["progressbar", "img", "button", "presentation", "none"]).not.toContain(el.getAttribute("role"));
      expect(el.getAttribute("aria-hidden")).not.toBe("true");
    }
    // The bar is described by the status line and the time left, as text in the DOM (reading
    // the bar alone says where the job is); the time left is shown only by CSS otherwise.
    const described = (bar.getAttribute("aria-describedby") ?? "").split(" ").map((ref) => document.getElementById(ref));
    expect(described.map((el) => el?.textContent)).toEqual(["running · k = 3", "· 30 s left"]);
    expect(described[1]?.hidden).toBe(true);
    expect(group.querySelector(".ph-job__meta")?.getAttribute("aria-hidden")).toBe("true");
    // The group's own text (outside its nodes) is the status line: the projection's `text`.
    const own = group.cloneNode(true) as HTMLElement;
    own.querySelectorAll("[data-node-id]").forEach((n) => n.remove());
    expect(own.textContent).toBe("running · k = 3");
  });

  it("names the group and the bar Job when the label is absent or empty", () => {
    const { byId } = setup(page({ job: "j1", label: "" }));
    expect(byId("jp")?.getAttribute("aria-label")).toBe("Job");
    expect(byId("jp/bar")?.getAttribute("aria-label")).toBe("Job");
  });

  it("shows progress, stage and log from job messages without any patch", () => {
    const { byId, s } = setup();
    s.push({ type: "job.state", seq: 3, job: "j1", name: "fit", state: "running" });
    s.push({ type: "job.progress", seq: 4, job: "j1", fraction: 0.426, stage: "k = 3", message: "fitting", eta: 75 });
    s.push({ type: "job.log", seq: 5, job: "j1", offset: 0, lines: ["a", "b", "c"] });
    const bar = byId("jp/bar");
    expect(bar?.getAttribute("aria-valuetext")).toBe("42%");
    expect(bar?.getAttribute("aria-valuenow")).toBe("42");
    expect(byId("jp")?.querySelector(".ph-job__text")?.textContent).toBe("running · k = 3 · fitting");
    const meta = byId("jp")?.querySelector(".ph-job__meta");
    expect(meta?.getAttribute("data-eta")).toBe("1 min left");
    expect(meta?.getAttribute("data-percent")).toBe("42%");
    expect(meta?.textContent).toBe(""); // shown by CSS: not part of the projected text
    expect(byId("jp/log")?.textContent).toBe("b c"); // the newest props.log lines, joined by a space
    expect(byId("jp/cancel")?.textContent).toBe("Cancel");
  });

  it("shows one log line per row, newest last, and projects them joined by a space", () => {
    const { byId, s } = setup(page({ job: "j1", log: 3 }));
    s.push({ type: "job.log", seq: 3, job: "j1", offset: 0, lines: ["k=2  silhouette=0.268", "k=3", "k=4", "k=5"] });
    const log = byId("jp/log");
    const rows = [...(log?.querySelectorAll(".ph-job__line") ?? [])].map((row) => row.textContent);
    expect(rows).toEqual(["k=3", "k=4", "k=5"]);
    // Rows are separated by a space text node: textContent (and innerText, the rows being
    // inline-blocks) joins them with it.
    expect(log?.textContent).toBe("k=3 k=4 k=5");
    // The bar, then the cancel control, then the log in the DOM, as the projection orders children.
    const after = [...(byId("jp")?.querySelectorAll("[data-node-id]") ?? [])].map((n) => n.getAttribute("data-node-id"));
    expect(after).toEqual(["jp/bar", "jp/cancel", "jp/log"]);
  });

  it("keeps the log scrolled to the newest line unless the reader scrolled up", () => {
    const { byId, s } = setup(page({ job: "j1", log: 50 }));
    s.push({ type: "job.log", seq: 3, job: "j1", offset: 0, lines: ["a", "b"] });
    const log = byId("jp/log") as HTMLElement;
    // jsdom has no layout: give the box a size.
    Object.defineProperty(log, "clientHeight", { configurable: true, value: 100 });
    Object.defineProperty(log, "scrollHeight", { configurable: true, get: () => 40 * log.childElementCount });
    s.push({ type: "job.log", seq: 4, job: "j1", offset: 2, lines: ["c", "d", "e", "f"] });
    expect(log.scrollTop).toBe(240); // followed the newest line
    log.scrollTop = 0; // the reader scrolls up to read older lines
    log.dispatchEvent(new Event("scroll"));
    s.push({ type: "job.log", seq: 5, job: "j1", offset: 6, lines: ["g"] });
    expect(log.scrollTop).toBe(0);
    log.scrollTop = 180; // back to the bottom (280 - 100)
    log.dispatchEvent(new Event("scroll"));
    s.push({ type: "job.log", seq: 6, job: "j1", offset: 7, lines: ["h"] });
    expect(log.scrollTop).toBe(320);
  });

  it("rounds the percentage down without binary rounding errors, and shows 100 when succeeded", () => {
    const { byId, s } = setup();
    s.push({ type: "job.progress", seq: 3, job: "j1", fraction: 0.57 }); // 0.57 * 100 = 56.99…
    expect(byId("jp/bar")?.getAttribute("aria-valuenow")).toBe("57");
    s.push({ type: "job.progress", seq: 4, job: "j1", fraction: 0.579 });
    expect(byId("jp/bar")?.getAttribute("aria-valuenow")).toBe("57");
    s.push({ type: "job.state", seq: 5, job: "j1", name: "fit", state: "succeeded", progress: { fraction: 1 } });
    const bar = byId("jp/bar");
    expect(bar?.getAttribute("aria-valuenow")).toBe("100");
    expect((bar?.querySelector(".ph-job__fill") as HTMLElement).style.width).toBe("100%");
    expect(byId("jp")?.querySelector(".ph-job__meta")).toBeNull(); // no percentage or time left once ended
    expect(bar?.getAttribute("aria-describedby")?.split(" ")).toHaveLength(1); // the status line alone
  });

  it("shows the state of a job heard of before its node appeared", () => {
    const { byId, s } = setup({ id: "root", type: "Column", children: [] });
    s.push({ type: "job.state", seq: 3, job: "j9", name: "fit", state: "running", progress: { fraction: 0.5 } });
    s.push({ type: "ui.patch", seq: 4, base: 1, rev: 2, ops: [{ id: "root", insert: { id: "jp", type: "JobProgress", props: { job: "j9" } }, index: 0 }] });
    expect(byId("jp/bar")?.getAttribute("aria-valuetext")).toBe("50%");
  });

  it("sends job.cancel with the next event id and hides the control until the job ends", () => {
    const { byId, s, client } = setup();
    s.push({ type: "job.state", seq: 3, job: "j1", name: "fit", state: "running" });
    client.sendEvent("root", "click");
    byId("jp/cancel")?.click();
    const [cancel] = s.ofType("job.cancel");
    expect(cancel).toMatchObject({ type: "job.cancel", id: 2, job: "j1" });
    expect(byId("jp/cancel")).toBeNull();
    s.push({ type: "ack", seq: 4, event: 2 });
    s.push({ type: "job.state", seq: 5, job: "j1", name: "fit", state: "cancelled" });
    expect(byId("jp")?.querySelector(".ph-job__text")?.textContent).toBe("cancelled");
    expect(byId("jp/cancel")).toBeNull();
  });

  it("shows a failed job's error in its text", () => {
    const { byId, s } = setup();
    s.push({ type: "job.state", seq: 3, job: "j1", name: "fit", state: "failed", error: { message: "ValueError: no" } });
    expect(byId("jp")?.querySelector(".ph-job__text")?.textContent).toBe("failed · ValueError: no");
  });

  it("drops a job message over the schema's bounds, reports it, and shows the next valid one", () => {
    const { byId, s } = setup();
    s.push({ type: "job.state", seq: 3, job: "j1", name: "fit", state: "running" });
    s.push({ type: "job.progress", seq: 4, job: "j1", fraction: 0.2, stage: "k = 2" });
    s.push({ type: "job.progress", seq: 5, job: "j1", fraction: 0.3, stage: "k".repeat(201) });
    s.push({ type: "job.log", seq: 6, job: "j1", offset: 0, lines: ["x".repeat(1001)] });
    s.push({ type: "job.state", seq: 7, job: "j1", name: "fit", state: "failed", error: { message: "e".repeat(1025) } });
    // Dropped whole (nothing of them shown), each reported as invalid_message (PHL-ERR-006),
    // the session kept: its seq counted, so the next message is no gap.
    expect(s.ofType("error").map((e) => [e.code, String(e.message).split(":")[0]])).toEqual([
      ["invalid_message", "job.progress"],
      ["invalid_message", "job.log"],
      ["invalid_message", "job.state"],
    ]);
    expect(byId("jp")?.querySelector(".ph-job__text")?.textContent).toBe("running · k = 2");
    expect(byId("jp/log")).toBeNull();
    s.push({ type: "job.progress", seq: 8, job: "j1", fraction: 0.4, stage: "k = 3" });
    expect(byId("jp")?.querySelector(".ph-job__text")?.textContent).toBe("running · k = 3");
    expect(s.ofType("error")).toHaveLength(3);
  });

  it("resends an unanswered cancel after a reconnect", () => {
    vi.useFakeTimers();
    const registry = createRegistry();
    const net = fakeNetwork();
    const client = new PhloemClient({ url: "ws://t/phloem/ws", path: "/", components: registry.versions(), createSocket: net.factory, environment: null, random: () => 0.5 });
    cleanup.push(() => client.stop());
    client.start();
    const first = net.last();
    first.open();
    first.push(welcome(1, { version: "1.1", features: ["jobs"] }));
    client.cancelJob("j1");
    first.drop();
    vi.advanceTimersByTime(2000); // past the reconnect backoff
    const second = net.last();
    expect(second).not.toBe(first);
    second.open();
    second.push(welcome(2, { version: "1.1", features: ["jobs"], resumed: true }));
    expect(second.ofType("job.cancel")).toEqual([expect.objectContaining({ id: 1, job: "j1" })]);
  });
});
