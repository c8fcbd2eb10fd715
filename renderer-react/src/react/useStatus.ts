import { useSyncExternalStore } from "react";
import type { Status } from "../core";
import { usePhloem } from "./context";

/** The connection status: idle, connecting, open, reconnecting, failed or closed. */
export function useStatus(): Status {
  const { transport } = usePhloem().client;
  const get = () => transport.status;
  return useSyncExternalStore((notify) => transport.subscribeStatus(notify), get, get);
}
