import { createContext, useContext } from "react";
import type { PhloemClient } from "../core";
import type { Registry } from "../registry";

export interface PhloemContextValue {
  client: PhloemClient;
  registry: Registry;
}

export const PhloemContext = createContext<PhloemContextValue | null>(null);

export function usePhloem(): PhloemContextValue {
  const value = useContext(PhloemContext);
  if (!value) throw new Error("Phloem components must render inside <PhloemRoot>");
  return value;
}
