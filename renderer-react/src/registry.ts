import type { ComponentType, ReactNode } from "react";
import * as views from "./components";
import type { BoundDecl, BoundTable } from "./core/bound";
import { COMPONENT_TYPE, CORE_VERSIONS, type CoreType } from "./core/catalog.gen";
import { JobProgress } from "./components/JobProgress/JobProgress";

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
  /** An input component's bound value: it gets the echo rule (PHL-COMP-021) through `useBound`. */
  bound?: BoundDecl;
}

export interface RegisterOptions {
  version?: number;
  builtin?: boolean;
  /** For an input component: the prop the user edits and the event that sends it. */
  bound?: BoundDecl;
}

/** Maps component type → React component. Custom components plug in with `register()`. */
export class Registry {
  private readonly entries = new Map<string, ComponentEntry>();

  register(type: string, component: NodeComponent, options: RegisterOptions = {}): this {
    if (!COMPONENT_TYPE.test(type)) throw new TypeError(`component type must be PascalCase: ${type}`);
    const entry: ComponentEntry = { component, version: options.version ?? 1, builtin: options.builtin ?? false };
    if (options.bound) entry.bound = options.bound;
    this.entries.set(type, entry);
    return this;
  }

  get(type: string): ComponentEntry | undefined {
    return this.entries.get(type);
  }

  /** The bound values registered components declare (the client adds the core catalog's). */
  bound(): BoundTable {
    const out: Record<string, BoundDecl> = {};
    for (const [type, entry] of this.entries) if (entry.bound) out[type] = entry.bound;
    return out;
  }

  /** The hello.components map: type → props major version. */
  versions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [type, entry] of this.entries) out[type] = entry.version;
    return out;
  }
}

// Every core type has its view (a type-check error otherwise): ./components/<Type>/<Type>.tsx.
const CORE_VIEWS: Record<CoreType, NodeComponent> = views;

/** A registry holding the core catalog (schemas/1.0/components, via catalog.gen.ts). */
export function createRegistry(): Registry {
  const registry = new Registry();
  for (const type of Object.keys(CORE_VERSIONS) as CoreType[]) {
    registry.register(type, CORE_VIEWS[type], { version: CORE_VERSIONS[type], builtin: true });
  }
  // Since 1.1 (schemas/1.1/components): the jobs feature's progress bar.
  return registry.register("JobProgress", JobProgress, { version: 1, builtin: true });
}

/** The registry the app entry uses. */
export const defaultRegistry = createRegistry();

/** Adds a custom component to the default registry. */
export function register(type: string, component: NodeComponent, options?: Omit<RegisterOptions, "builtin">): void {
  defaultRegistry.register(type, component, options);
}
