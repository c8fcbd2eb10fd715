/**
 * Bound values: the one behaviour every input component shares, declared by its schema's
 * `x-phloem.bound` (spec/1.0/components/index.md): the prop the user edits, the event that
 * carries its new value, and the value shown while the prop is unset. The echo rule
 * (PHL-COMP-021, `edits.ts`) and what a field displays are driven by the declaration alone,
 * so nothing here knows a component by name: TextInput, any input added to the catalog after
 * it, and a custom component registered with a `bound` declaration get the same rule.
 */

import { BOUND } from "./catalog.gen";

export interface BoundDecl {
  /** The prop the user edits. */
  readonly prop: string;
  /** The event that carries its new value. */
  readonly event: string;
  /** Shown while the prop is unset; absent: the component decides. */
  readonly default?: unknown;
}

export type BoundTable = Readonly<Record<string, BoundDecl>>;

/** The core catalog's declarations (generated from the schemas). */
export const CORE_BOUND: BoundTable = BOUND;

/** Structural equality of two JSON values (an object's key order does not count). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && sameValue(x[k], y[k]));
}

/**
 * What an input node displays: the user's value while the echo rule holds (`edit`), else its
 * bound prop from the tree, else the declared default (undefined when there is none).
 */
export function shownValue(decl: BoundDecl, props: Readonly<Record<string, unknown>>, edit?: { readonly value: unknown }): unknown {
  if (edit) return edit.value;
  return Object.hasOwn(props, decl.prop) ? props[decl.prop] : decl.default;
}
