import type { Root } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import { PhloemClient } from "../../src/core";
import { mount, useBound } from "../../src/react";
import { createRegistry, type NodeProps } from "../../src/registry";
import { fakeEnvironment, fakeNetwork, welcome } from "../helpers/fakeSocket";

// A custom input component declares its bound value when registered and gets the echo rule
// (PHL-COMP-021) through useBound, as the catalog's TextInput does.

function Checkbox({ id, type, props, attrs }: NodeProps) {
  const bound = useBound(id, type, props);
  return (
    <label {...attrs}>
      <input type="checkbox" checked={bound.value === true} onChange={(e) => bound.set(e.currentTarget.checked)} />
      {typeof props.label === "string" ? props.label : ""}
    </label>
  );
}

let cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
  document.body.innerHTML = "";
});

describe("a custom input component with a bound value", () => {
  it("sends its declared event and shows the user's value until the server has answered", () => {
    const registry = createRegistry().register("Checkbox", Checkbox, { bound: { prop: "checked", event: "toggle", default: false } });
    expect(registry.bound()).toEqual({ Checkbox: { prop: "checked", event: "toggle", default: false } });
    const net = fakeNetwork();
    const client = new PhloemClient({
      url: "ws://test/phloem/ws",
      path: "/",
      components: registry.versions(),
      createSocket: net.factory,
      environment: fakeEnvironment(),
      random: () => 0.5,
      bound: registry.bound(),
    });
    const container = document.createElement("div");
    document.body.appendChild(container);
    const root: Root = mount(container, client, registry);
    client.start();
    cleanup.push(() => {
      client.stop();
      root.unmount();
    });
    const s = net.last();
    s.open();
    s.push(welcome(1, {}));
    s.push({ type: "ui.snapshot", seq: 2, rev: 1, root: { id: "root", type: "Column", children: [{ id: "ok", type: "Checkbox", props: { label: "Agree" } }] } });
    const box = () => container.querySelector<HTMLInputElement>('[data-node-id="ok"] input');
    expect(box()?.checked).toBe(false); // the declared default while the prop is unset
    box()?.click();
    expect(s.ofType("event")).toMatchObject([{ id: 1, node: "ok", name: "toggle", value: true }]);
    expect(box()?.checked).toBe(true);
    // A patch computed before the toggle arrived does not undo it on screen.
    s.push({ type: "ui.patch", seq: 3, base: 1, rev: 2, ops: [{ id: "ok", set: { checked: false } }] });
    expect(box()?.checked).toBe(true);
    s.push({ type: "ui.patch", seq: 4, base: 2, rev: 3, ops: [{ id: "ok", set: { checked: true } }], event: 1 });
    expect(client.edits.get("ok")).toBeUndefined();
    expect(box()?.checked).toBe(true);
    s.push({ type: "ui.patch", seq: 5, base: 3, rev: 4, ops: [{ id: "ok", set: { checked: false } }] });
    expect(box()?.checked).toBe(false); // nothing unanswered: the tree's value
  });
});
