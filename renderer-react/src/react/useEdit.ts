import { useCallback, useSyncExternalStore } from "react";
import type { FieldEdit } from "../core";
import { usePhloem } from "./context";

/** What input `id` shows instead of its bound prop (the echo rule), or undefined. */
export function useEdit(id: string): FieldEdit | undefined {
  const { edits } = usePhloem().client;
  const subscribe = useCallback((notify: () => void) => edits.subscribe(id, notify), [edits, id]);
  const get = () => edits.get(id);
  return useSyncExternalStore(subscribe, get, get);
}
