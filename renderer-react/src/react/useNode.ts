import { useCallback, useSyncExternalStore } from "react";
import type { TreeNode } from "../core";
import { usePhloem } from "./context";

/** The node `id`, re-rendering only when that node's own props or children change. */
export function useNode(id: string): TreeNode | undefined {
  const { store } = usePhloem().client;
  const subscribe = useCallback((notify: () => void) => store.subscribeNode(id, notify), [store, id]);
  const get = () => store.getNode(id);
  return useSyncExternalStore(subscribe, get, get);
}
