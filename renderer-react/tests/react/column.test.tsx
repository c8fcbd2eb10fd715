import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Root } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { PhloemClient } from "../../src/core";
import { mount } from "../../src/react";
import { createRegistry } from "../../src/registry";
import { fakeEnvironment, fakeNetwork, welcome } from "../helpers/fakeSocket";

// Column's `align` (PHL-COMP-015): absent is the spec's default, "stretch"
// (spec/1.0/components/Column.md); a Button and a Link keep their own width in it.

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
  document.head.innerHTML = "";
  document.body.innerHTML = "";
});

const STYLES = readFileSync(resolve(__dirname, "../../src/styles.css"), "utf8");

function show(root: object) {
  const style = document.createElement("style");
  style.textContent = STYLES;
  document.head.appendChild(style);
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
  s.push(welcome(1));
  s.push({ type: "ui.snapshot", seq: 2, rev: 1, root });
  cleanup.push(() => {
    client.stop();
    reactRoot.unmount();
  });
  return (id: string) => container.querySelector<HTMLElement>(`[data-node-id="${id}"]`) as HTMLElement;
}

const column = (props: Record<string, unknown>) => ({
  id: "root",
  type: "Column",
  props,
  children: [
    { id: "t", type: "Text", props: { text: "Count: 0" } },
    { id: "b", type: "Button", props: { label: "Increment" } },
    { id: "l", type: "Link", props: { text: "Docs", href: "https://example.org/" } },
    { id: "f", type: "TextInput", props: { label: "Name" } },
    { id: "inner", type: "Column", children: [] },
  ],
});

describe("Column align", () => {
  it.each([
    ["absent", "stretch", {}],
    ["stretch", "stretch", { align: "stretch" }],
    ["start", "flex-start", { align: "start" }],
    ["center", "center", { align: "center" }],
    ["end", "flex-end", { align: "end" }],
    // Out of schema reads as absent (PHL-COMP-004): the default, never an inherited key.
    ["out of schema", "stretch", { align: "left" }],
    ["a prototype key", "stretch", { align: "constructor" }],
    ["not a string", "stretch", { align: 3 }],
  ])("%s: align-items %s", (_, expected, props) => {
    const byId = show(column(props));
    expect(byId("root").style.alignItems).toBe(expected);
  });

  it("lets only auto-width children stretch: a Button and a Link keep their own width", () => {
    const byId = show(column({}));
    const css = (id: string) => window.getComputedStyle(byId(id));
    expect(css("root").display).toBe("flex");
    expect(css("root").flexDirection).toBe("column");
    // CSS stretches a flex item only when its width is auto (CSS Flexbox §8.3).
    expect(css("b").width).toBe("fit-content");
    expect(css("l").width).toBe("fit-content");
    for (const id of ["t", "f", "inner"]) expect(["", "auto"], id).toContain(css(id).width);
    // Nothing overrides the column's alignment on a child: start, center and end apply to all.
    for (const id of ["t", "b", "l", "f", "inner"]) expect(["", "auto"], id).toContain(css(id).alignSelf);
    expect(css("f").maxWidth).toBe("480px"); // a field stops at a readable width
  });
});
