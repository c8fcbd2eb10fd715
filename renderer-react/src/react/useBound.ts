import { useCallback } from "react";
import { shownValue } from "../core/bound";
import { usePhloem } from "./context";
import { useEdit } from "./useEdit";

export interface Bound {
  /** What the input displays (PHL-COMP-021): the user's value, else the prop, else the default. */
  value: unknown;
  /** The latest value was too large to send (PHL-LIM-001): tell the user. */
  tooLong: boolean;
  /** The user changed the value: shown at once, sent as the type's bound event. */
  set: (value: unknown) => void;
}

/**
 * The bound value of input node `id` of type `type` (its schema's or its registration's
 * `bound` declaration): what to display, and how to report an edit. Validate `value` before
 * relying on it: a prop from the tree may be of any type.
 */
export function useBound(id: string, type: string, props: Readonly<Record<string, unknown>>): Bound {
  const { client } = usePhloem();
  const edit = useEdit(id);
  const set = useCallback((value: unknown) => client.edit(id, value), [client, id]);
  const decl = client.bound[type];
  if (!decl) throw new TypeError(`${type} declares no bound value`);
  return { value: shownValue(decl, props, edit), tooLong: edit?.tooLong === true, set };
}
