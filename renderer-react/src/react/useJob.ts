import { useCallback, useSyncExternalStore } from "react";
import type { JobView } from "../core";
import { usePhloem } from "./context";

/** Job `id` from the job store, re-rendering only when that job changes (PHL-JOB-070). */
export function useJob(id: string): JobView | undefined {
  const { jobs } = usePhloem().client;
  const subscribe = useCallback((notify: () => void) => jobs.subscribe(id, notify), [jobs, id]);
  const get = () => jobs.get(id);
  return useSyncExternalStore(subscribe, get, get);
}
