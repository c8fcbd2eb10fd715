import { useSyncExternalStore } from "react";
import type { Notice } from "../core";
import { usePhloem } from "./context";

/** The latest notice for the user (an app failure, a reset session), or null. */
export function useNotice(): Notice | null {
  const { client } = usePhloem();
  const get = () => client.notice;
  return useSyncExternalStore((notify) => client.subscribeNotice(notify), get, get);
}
