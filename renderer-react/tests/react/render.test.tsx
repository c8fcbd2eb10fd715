import type { Root } from "react-dom/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PhloemClient } from "../../src/core";
import { Button, Column, Text } from "../../src/components";
import { mount } from "../../src/react";
import { createRegistry, type NodeComponent, type NodeProps, type Registry } from "../../src/registry";
import { fakeNetwork, snapshot, welcome } from "../helpers/fakeSocket";

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
  document.body.innerHTML = "";
});

function setup(options: { registry?: Registry; root?: object } = {}) {
  const registry = options.registry ?? createRegistry();
  const net = fakeNetwork();
  const client = new PhloemClient({
    url: "ws://test/phloem/ws",
    path: "/counter",
    components: registry.versions(),
    createSocket: net.factory,
  });
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root: Root = mount(container, client, registry);
  client.start();
  const s = net.last();
  s.open();
  s.push(welcome());
  s.push(snapshot(2, 1, options.root));
  cleanup.push(() => {
    client.stop();
    root.unmount();
  });
  const byId = (id: string) => container.querySelector<HTMLElement>(`[data-node-id="${id}"]`);
  return { client, container, s, byId, net };
}

/** A registry whose core components count their renders per node id. */
function countingRegistry() {
  const renders: Record<string, number> = {};
  const counted = (Inner: NodeComponent): NodeComponent =>
    function Counted(props: NodeProps) {
      renders[props.id] = (renders[props.id] ?? 0) + 1;
      return <Inner {...props} />;
    };
  const registry = createRegistry()
    .register("Column", counted(Column), { builtin: true })
    .register("Text", counted(Text), { builtin: true })
    .register("Button", counted(Button), { builtin: true });
  return { registry, renders };
}

const patch = (seq: number, base: number, ops: object[], event?: number) => ({
  type: "ui.patch",
  seq,
  base,
  rev: base + 1,
  ops,
  ...(event === undefined ? {} : { event }),
});

describe("React renderer", () => {
  it("renders the counter tree with data-node-id and data-node-type on every node", () => {
    const { byId, container } = setup();
    expect(byId("root")?.dataset.nodeType).toBe("Column");
    expect(byId("count")?.textContent).toBe("Count: 0");
    expect(byId("count")?.dataset.nodeType).toBe("Text");
    const button = byId("inc");
    expect(button?.tagName).toBe("BUTTON");
    expect(button?.textContent).toBe("Increment");
    expect(container.querySelectorAll("[data-node-id]")).toHaveLength(3);
    expect(byId("root")?.contains(button ?? null)).toBe(true);
  });

  it("a click sends a click event for the button's node", () => {
    const { byId, s } = setup();
    byId("inc")?.click();
    expect(s.ofType("event")).toMatchObject([{ type: "event", id: 1, node: "inc", name: "click", rev: 1 }]);
  });

  it("a patch updates the DOM before the message handler returns", () => {
    const { byId, s } = setup();
    s.push(patch(3, 1, [{ id: "count", set: { text: "Count: 1" } }], 1));
    expect(byId("count")?.textContent).toBe("Count: 1");
  });

  it("a patch re-renders only the touched node", () => {
    const { registry, renders } = countingRegistry();
    const { byId, s } = setup({ registry });
    expect(renders).toEqual({ root: 1, count: 1, inc: 1 });
    s.push(patch(3, 1, [{ id: "count", set: { text: "Count: 1" } }]));
    expect(byId("count")?.textContent).toBe("Count: 1");
    expect(renders).toEqual({ root: 1, count: 2, inc: 1 });
  });

  it("a disabled button sends nothing", () => {
    const { byId, s } = setup();
    s.push(patch(3, 1, [{ id: "inc", set: { disabled: true } }]));
    const button = byId("inc") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    button.click();
    button.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(s.ofType("event")).toEqual([]);
  });

  it("an unknown component renders the fallback with its children", () => {
    const { byId } = setup({
      root: {
        id: "root",
        type: "Column",
        children: [
          { id: "spark", type: "Sparkline", props: { values: [1, 2, 3] }, children: [{ id: "inside", type: "Text", props: { text: "inside" } }] },
          { id: "after", type: "Text", props: { text: "after" } },
        ],
      },
    });
    const spark = byId("spark");
    expect(spark?.dataset.nodeType).toBe("Sparkline");
    expect(spark?.textContent).toContain("Unsupported component: Sparkline");
    expect(spark?.contains(byId("inside"))).toBe(true);
    expect(byId("inside")?.textContent).toBe("inside");
    expect(byId("after")?.textContent).toBe("after");
  });

  it("text is rendered as text, never as HTML", () => {
    const { byId, container, s } = setup();
    const markup = '<img src="x" onerror="alert(1)"><b>bold</b>';
    s.push(patch(3, 1, [{ id: "count", set: { text: markup } }]));
    expect(byId("count")?.textContent).toBe(markup);
    expect(container.querySelector("img, b")).toBeNull();
  });

  it("a prop that does not validate reads as absent and nothing fails", () => {
    const { byId, s } = setup();
    s.push(patch(3, 1, [{ id: "count", set: { text: { not: "a string" } } }, { id: "root", set: { gap: -5, align: "sideways" } }]));
    expect(byId("count")?.textContent).toBe("");
    expect(byId("root")?.style.gap).toBe("");
    expect(byId("inc")?.textContent).toBe("Increment");
  });

    it("insert, move and remove show up in DOM order", () => {
    const { byId, s } = setup();
    s.push(
      patch(3, 1, [
        { id: "root", insert: { id: "note", type: "Text", props: { text: "note" } }, index: 0 },
        { id: "inc", move: "root", index: 1 },
      ]),
    );
    const order = () => [...(byId("root")?.children ?? [])].map((e) => (e as HTMLElement).dataset.nodeId);
    expect(order()).toEqual(["note", "inc", "count"]);
    s.push(patch(4, 2, [{ id: "note", remove: true }]));
    expect(order()).toEqual(["inc", "count"]);
    expect(byId("note")).toBeNull();
  });

  it("a replace under the same id shows the new content", () => {
    const { byId, s } = setup();
    s.push(patch(3, 1, [{ id: "count", replace: { id: "count", type: "Button", props: { label: "Now a button" } } }]));
    expect(byId("count")?.tagName).toBe("BUTTON");
    expect(byId("count")?.textContent).toBe("Now a button");
  });

  it("a registered custom component renders; one that throws shows a fallback and the rest survives", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const registry = createRegistry()
      .register("Badge", ({ props, attrs }: NodeProps<{ text: string }>) => <span {...attrs} className="badge">{props.text}</span>)
      .register("Broken", () => {
        throw new Error("broken component");
      });
    const { byId } = setup({
      registry,
      root: {
        id: "root",
        type: "Column",
        children: [
          { id: "b", type: "Badge", props: { text: "new" } },
          { id: "x", type: "Broken" },
          { id: "t", type: "Text", props: { text: "still here" } },
        ],
      },
    });
    expect(byId("b")?.className).toBe("badge");
    expect(byId("x")?.textContent).toContain("Component failed: Broken");
    expect(byId("t")?.textContent).toBe("still here");
  });

  it("the status indicator shows reconnecting while the connection is down", async () => {
    const { container, s } = setup();
    const status = () => container.querySelector<HTMLElement>("[role=status]");
    expect(status()?.hidden).toBe(true);
    s.drop();
    await vi.waitFor(() => expect(status()?.hidden).toBe(false));
    expect(status()?.textContent).toBe("Reconnecting…");
  });

  it("a session taken over by another window says so and stays closed (PHL-CLIENT-002)", async () => {
    const { container, s, net } = setup();
    const status = () => container.querySelector<HTMLElement>("[role=status]");
    s.drop(4409);
    await vi.waitFor(() => expect(status()?.dataset.ending).toBe("taken-over"));
    expect(status()?.hidden).toBe(false);
    expect(status()?.textContent).toContain("open in another window");
    expect(net.sockets).toHaveLength(1);
  });
});

describe("server errors", () => {
  it("a handler_error is shown; a stale_revision is not", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const { container, s } = setup();
    const alert = () => container.querySelector<HTMLElement>("[role=alert]");
    s.push({ type: "error", seq: 3, code: "stale_revision", message: "gone", event: 1 });
    await Promise.resolve();
    expect(alert()).toBeNull();
    s.push({ type: "error", seq: 4, code: "handler_error", message: "division by zero", event: 2 });
    await vi.waitFor(() => expect(alert()?.textContent).toContain("division by zero"));
  });
});
