import { useSyncExternalStore } from "react";
import type { wire } from "../core";
import { usePhloem } from "./context";

/** The last error the server reported, or null. */
export function useServerError(): wire.Error | null {
  const { client } = usePhloem();
  const get = () => client.error;
  return useSyncExternalStore((notify) => client.subscribeError(notify), get, get);
}
