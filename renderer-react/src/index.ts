/** @phloem/react: the React renderer for Phloem. The React-free core is at "@phloem/react/core". */
export * from "./core";
export * from "./react";
export { Button, Column, JobProgress, Link, Text, TextInput } from "./components";
export {
  createRegistry,
  defaultRegistry,
  register,
  Registry,
  type ComponentEntry,
  type NodeAttrs,
  type NodeComponent,
  type NodeProps,
} from "./registry";
