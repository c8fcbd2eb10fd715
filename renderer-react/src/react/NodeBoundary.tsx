import { Component, type ReactNode } from "react";
import type { NodeAttrs } from "../registry";
import { Fallback } from "./Fallback";

interface Props {
  type: string;
  attrs: NodeAttrs;
  children: ReactNode;
}

/** A custom component that throws shows a fallback instead of taking the page down. */
export class NodeBoundary extends Component<Props, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override componentDidCatch(error: unknown): void {
    console.error(`Phloem: component ${this.props.type} failed`, error);
  }

  override render(): ReactNode {
    if (!this.state.failed) return this.props.children;
    return <Fallback type={this.props.type} attrs={this.props.attrs} reason={`Component failed: ${this.props.type}`}>{null}</Fallback>;
  }
}
