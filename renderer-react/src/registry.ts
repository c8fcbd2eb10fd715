import type { ComponentType, ReactNode } from "react";
import { Button } from "./components/Button/Button";
import { Column } from "./components/Column/Column";
import { JobProgress } from "./components/JobProgress/JobProgress";
import { Link } from "./components/Link/Link";
import { Text } from "./components/Text/Text";
import { TextInput } from "./components/TextInput/TextInput";

/** Attributes every rendered node's outermost element carries (conformance and tests find nodes by them). */
export interface NodeAttrs {
  "data-node-id": string;
  "data-node-type": string;
}

/** What a registered component receives for one node. */
export interface NodeProps<P = Record<string, unknown>> {
  id: string;
  type: string;
  /** The node's props as the server sent them (validate what you rely on). */
  props: Readonly<P>;
  /** The node's children, already rendered. */
  children: ReactNode;
  /** Spread on the outermost element: `<div {...attrs}>`. */
  attrs: NodeAttrs;
  /** Sends an event on this node, e.g. `emit("click")`. */
  emit: (name: string, value?: unknown) => void;
}

// Components choose their own props type; the registry stores them type-erased (`any` is
// the one type both ComponentType<NodeProps<ButtonProps>> and <NodeProps<MyProps>> fit).
export type NodeComponent = ComponentType<NodeProps<any>>;

export interface ComponentEntry {
  component: NodeComponent;
  /** Major version of the component's props schema, announced in hello.components (PHL-HS-005). */
  version: number;
  /** Built-in components are trusted not to throw; others render inside an error boundary. */
  builtin: boolean;
}

/** Maps component type → React component. Custom components plug in with `register()`. */
export class Registry {
  private readonly entries = new Map<string, ComponentEntry>();

  register(type: string, component: NodeComponent, options: { version?: number; builtin?: boolean } = {}): this {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(type)) throw new TypeError(`component type must be PascalCase: ${type}`);
    this.entries.set(type, { component, version: options.version ?? 1, builtin: options.builtin ?? false });
    return this;
  }

  get(type: string): ComponentEntry | undefined {
    return this.entries.get(type);
  }

  /** The hello.components map: type → props major version. */
  versions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [type, entry] of this.entries) out[type] = entry.version;
    return out;
  }
}

/** A registry holding the core catalog (schemas/1.0/components). */
export function createRegistry(): Registry {
  return new Registry()
    .register("Column", Column, { version: 1, builtin: true })
    .register("Text", Text, { version: 1, builtin: true })
    .register("Button", Button, { version: 1, builtin: true })
    .register("TextInput", TextInput, { version: 1, builtin: true })
    .register("Link", Link, { version: 1, builtin: true })
    .register("JobProgress", JobProgress, { version: 1, builtin: true }); // since 1.1 (schemas/1.1)
}

/** The registry the app entry uses. */
export const defaultRegistry = createRegistry();

/** Adds a custom component to the default registry. */
export function register(type: string, component: NodeComponent, options?: { version?: number }): void {
  defaultRegistry.register(type, component, options);
}
