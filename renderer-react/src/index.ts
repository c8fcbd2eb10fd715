/** @phloem/react: the React renderer for Phloem. The React-free core is at "@phloem/react/core". */
export * from "./core";
export * from "./react";
export * from "./components";
export { JobProgress } from "./components/JobProgress/JobProgress"; // since 1.1: the jobs feature
export {
  createRegistry,
  defaultRegistry,
  register,
  Registry,
  type ComponentEntry,
  type NodeAttrs,
  type NodeComponent,
  type NodeProps,
  type RegisterOptions,
} from "./registry";
export { startRenderer } from "./start";
