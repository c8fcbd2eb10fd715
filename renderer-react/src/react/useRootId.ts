import { useSyncExternalStore } from "react";
import { usePhloem } from "./context";

/** The id of the tree's root (null before the first snapshot); changes only on snapshot or root replace. */
export function useRootId(): string | null {
  const { store } = usePhloem().client;
  const get = () => store.getRootId();
  return useSyncExternalStore((notify) => store.subscribe(notify), get, get);
}
