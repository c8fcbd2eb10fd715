import type { Root } from "react-dom/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PhloemClient } from "../../src/core";
import { mount } from "../../src/react";
import { createRegistry } from "../../src/registry";
import { fakeEnvironment, fakeNetwork, welcome } from "../helpers/fakeSocket";

// TextInput (PHL-COMP-019..021, PHL-LIM-001), Link (PHL-COMP-023, PHL-SEC-003), the
// server-sent Column fallback (PHL-COMP-018), hello.components, and the status indicator.

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
  document.body.innerHTML = "";
  vi.useRealTimers();
});

function setup(root: object, limits: Record<string, number> = { max_frame_bytes: 65536, max_events_per_second: 50 }) {
  const registry = createRegistry();
  const net = fakeNetwork();
  const env = fakeEnvironment();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/input",
    components: registry.versions(),
    createSocket: net.factory,
    environment: env,
    random: () => 0.5,
  });
  const container = document.createElement("div");
  document.body.appendChild(container);
  const reactRoot: Root = mount(container, client, registry);
  client.start();
  const s = net.last();
  s.open();
  s.push(welcome(1, { limits }));
  s.push({ type: "ui.snapshot", seq: 2, rev: 1, root });
  cleanup.push(() => {
    client.stop();
    reactRoot.unmount();
  });
  const byId = (id: string) => container.querySelector<HTMLElement>(`[data-node-id="${id}"]`);
  return { client, container, s, byId, net, env };
}

const inputPage = (props: Record<string, unknown> = { label: "Name", value: "" }) => ({
  id: "root",
  type: "Column",
  children: [{ id: "name", type: "TextInput", props }],
});

/** Types into a React-controlled input as a user would (React tracks the value setter). */
function type(input: HTMLInputElement, text: string) {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set?.call(input, text);
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

describe("TextInput", () => {
  it("is a text field labelled by its label, marked on its outermost element", () => {
    const { byId } = setup(inputPage({ label: "Name", value: "Ada", placeholder: "Your name" }));
    const node = byId("name");
    expect(node?.dataset.nodeType).toBe("TextInput");
    const input = node?.querySelector("input");
    expect(input?.type).toBe("text");
    expect(input?.value).toBe("Ada");
    expect(input?.placeholder).toBe("Your name");
    const label = node?.querySelector("label");
    expect(label?.textContent).toBe("Name");
    expect(label?.htmlFor).toBe(input?.id);
    expect(node?.firstElementChild).toBe(label);
  });

  it("sends change with the full text; while it is unanswered a patch from an older value does not overwrite it", () => {
    vi.useFakeTimers();
    const { byId, s } = setup(inputPage());
    const input = byId("name")?.querySelector("input") as HTMLInputElement;
    type(input, "a");
    vi.advanceTimersByTime(10);
    type(input, "ab");
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, event: 1, ops: [{ id: "name", set: { value: "a" } }] });
    expect(input.value).toBe("ab");
    vi.advanceTimersByTime(50);
    expect(s.ofType("event").map((e) => [e.id, e.name, e.value])).toEqual([
      [1, "change", "a"],
      [2, "change", "ab"],
    ]);
    // The server upper-cases: shown once it answered the last change.
    s.push({ type: "ui.patch", seq: 4, base: 2, rev: 3, event: 2, ops: [{ id: "name", set: { value: "AB" } }] });
    expect(input.value).toBe("AB");
  });

  it("a disabled field sends nothing", () => {
    vi.useFakeTimers();
    const { byId, s } = setup(inputPage({ label: "Name", value: "x", disabled: true }));
    const input = byId("name")?.querySelector("input") as HTMLInputElement;
    expect(input.disabled).toBe(true);
    type(input, "typed anyway");
    vi.advanceTimersByTime(200);
    expect(s.ofType("event")).toEqual([]);
  });

  it("text too long for max_frame_bytes is not sent; the field says so", () => {
    vi.useFakeTimers();
    const { byId, s } = setup(inputPage(), { max_frame_bytes: 256, max_events_per_second: 50 });
    const input = byId("name")?.querySelector("input") as HTMLInputElement;
    type(input, "y".repeat(400));
    vi.advanceTimersByTime(200);
    expect(s.ofType("event")).toEqual([]);
    expect(input.value).toBe("y".repeat(400));
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const note = byId("name")?.querySelector("[role=alert]");
    expect(note?.textContent).toMatch(/too long/i);
    expect(input.getAttribute("aria-describedby")).toBe(note?.id);
    type(input, "short");
    expect(s.ofType("event")).toMatchObject([{ name: "change", value: "short" }]);
    expect(byId("name")?.querySelector("[role=alert]")).toBeNull();
  });
});

describe("Link", () => {
  const page = (href: string) => ({
    id: "root",
    type: "Column",
    children: [{ id: "l", type: "Link", props: { text: "docs", href } }],
  });
  const resolved = (href: string) => new URL(href, document.baseURI).href;

  it.each([
    "https://example.com/a?b=1#c",
    "http://example.com",
    "mailto:someone@example.com",
    "/docs/page",
    "guide.html",
    "//cdn.example.com/x",
  ])("%s becomes a link resolved against the page, opening in a new tab", (href) => {
    const { byId } = setup(page(href));
    const a = byId("l") as HTMLAnchorElement;
    expect(a.tagName).toBe("A");
    expect(a.getAttribute("href")).toBe(resolved(href));
    expect(a.target).toBe("_blank");
    expect(a.rel).toBe("noopener noreferrer");
    expect(a.textContent).toBe("docs");
  });

  it("an HTML entity is not decoded: it stays a relative path on the page's own origin", () => {
    const { byId } = setup(page("jav&#x09;ascript:alert(1)"));
    const a = byId("l") as HTMLAnchorElement;
    expect(a.tagName).toBe("A");
    expect(new URL(a.getAttribute("href") ?? "").origin).toBe(new URL(document.baseURI).origin);
  });

  it.each([
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "  javascript:alert(1)",
    "\u0001javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\u0000javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "http://[not a host",
  ])("%j is shown as plain text: an <a> without href that leads nowhere", (href) => {
    const { byId, container } = setup(page(href));
    const el = byId("l");
    expect(el?.tagName).toBe("A");
    expect(el?.hasAttribute("href")).toBe(false);
    expect(el?.getAttribute("role")).toBe("link");
    expect(el?.getAttribute("aria-disabled")).toBe("true");
    expect(el?.hasAttribute("target")).toBe(false);
    expect(el?.hasAttribute("rel")).toBe(false);
    expect(el?.textContent).toBe("docs");
    expect(container.querySelector("[href]")).toBeNull();
  });
});

describe("Column with fallback (sent by the server)", () => {
  it("renders exactly like the renderer's own fallback, children inside, marked data-fallback", () => {
    const { byId } = setup({
      id: "root",
      type: "Column",
      children: [
        {
          id: "probe",
          type: "Column",
          props: { fallback: "Probe" },
          children: [{ id: "inside", type: "Text", props: { text: "inside" } }],
        },
        { id: "spark", type: "Sparkline", children: [{ id: "in2", type: "Text", props: { text: "inside" } }] },
      ],
    });
    const probe = byId("probe") as HTMLElement;
    const spark = byId("spark") as HTMLElement;
    expect(probe.dataset.nodeType).toBe("Column");
    expect(probe.dataset.fallback).toBe("true");
    expect(probe.getAttribute("role")).toBe("group");
    expect(probe.firstElementChild?.textContent).toBe("Unsupported component: Probe");
    expect(probe.contains(byId("inside"))).toBe(true);
    // Same markup as the renderer-side fallback, bar the type names.
    const normalise = (el: HTMLElement) =>
      el.outerHTML.replace(/data-node-(id|type)="[^"]*"/g, "").replace(/Probe|Sparkline|inside|in2/g, "X");
    expect(normalise(probe)).toBe(normalise(spark));
  });

  it("a fallback that is not a component type reads as absent: a plain Column", () => {
    const { byId } = setup({ id: "root", type: "Column", props: { fallback: "not a type" }, children: [] });
    expect(byId("root")?.hasAttribute("data-fallback")).toBe(false);
    expect(byId("root")?.textContent).toBe("");
  });
});

describe("hello", () => {
  it("announces TextInput and Link at version 1 with the rest of the catalog", () => {
    const { net } = setup(inputPage());
    expect(net.last().ofType("hello")[0]?.components).toEqual({ Column: 1, Text: 1, Button: 1, TextInput: 1, Link: 1, JobProgress: 1 });
  });
});

describe("status indicator", () => {
  it("says reconnecting after a drop, and offline while the browser reports no network", async () => {
    const { container, s, env, net } = setup(inputPage());
    const status = () => container.querySelector<HTMLElement>("[data-status]");
    expect(status()?.hidden).toBe(true);
    s.drop();
    await vi.waitFor(() => expect(status()?.textContent).toBe("Reconnecting…"));
    expect(status()?.dataset.status).toBe("reconnecting");
    env.emit("offline");
    await vi.waitFor(() => expect(status()?.textContent).toMatch(/^Offline/));
    expect(status()?.dataset.status).toBe("reconnecting");
    expect(status()?.hasAttribute("data-offline")).toBe(true);
    env.emit("online");
    await vi.waitFor(() => expect(status()?.textContent).toBe("Reconnecting…"));
    net.last().open();
    net.last().push(welcome(3, { resumed: true }));
    await vi.waitFor(() => expect(status()?.hidden).toBe(true));
    expect(status()?.hasAttribute("data-offline")).toBe(false);
  });
});
