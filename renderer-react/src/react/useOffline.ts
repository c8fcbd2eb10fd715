import { useSyncExternalStore } from "react";
import { usePhloem } from "./context";

/** Whether the browser reports the network gone (until it returns or a welcome gets through). */
export function useOffline(): boolean {
  const { transport } = usePhloem().client;
  const get = () => transport.offline;
  return useSyncExternalStore((notify) => transport.subscribeStatus(notify), get, get);
}
