import type { InsertOp, MoveOp, Node as WireNode, PatchOp } from "./wire.gen";

/** A node as the store holds it: props and children always present (PHL-TREE-003). */
export interface TreeNode {
  readonly id: string;
  readonly type: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly children: readonly TreeNode[];
}

/** Mutable view used only inside one patch, on nodes this patch copied itself. */
interface DraftNode {
  id: string;
  type: string;
  props: Record<string, unknown>;
  children: TreeNode[];
}

const EMPTY_PROPS: Readonly<Record<string, unknown>> = Object.freeze({});
const EMPTY_CHILDREN: readonly TreeNode[] = Object.freeze([]);

/** Raised when an op does not fit the current tree; the whole patch is then not applied. */
export class PatchConflict extends Error {
  override name = "PatchConflict";
}

/** Turns a validated wire node into a TreeNode (absent props = {}, absent children = []). */
export function normaliseNode(node: WireNode): TreeNode {
  const kids = node.children;
  return {
    id: node.id,
    type: node.type,
    props: node.props ?? EMPTY_PROPS,
    children: kids && kids.length > 0 ? kids.map(normaliseNode) : EMPTY_CHILDREN,
  };
}

/**
 * An immutable tree plus an id → node and id → parent index, so an op reaches its node in
 * O(1) and rebuilds only the path to the root (O(depth)). Untouched subtrees keep their
 * object identity, which lets renderers skip them.
 */
export class Tree {
  root: TreeNode;
  private readonly byId = new Map<string, TreeNode>();
  private readonly parentOf = new Map<string, string | null>();

  constructor(root: TreeNode) {
    this.root = root;
    this.indexSubtree(root, null);
  }

  get(id: string): TreeNode | undefined {
    return this.byId.get(id);
  }

  parentId(id: string): string | null | undefined {
    return this.parentOf.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Applies ops in order, atomically (PHL-PATCH-009): on a conflict every index change is
   * undone and the tree is left as it was; the old root was never mutated.
   * Returns the ids whose own props/children changed or whose node was (re)created.
   */
  apply(ops: readonly PatchOp[]): Set<string> {
    const session = new PatchSession(this.root, this.byId, this.parentOf);
    try {
      for (const op of ops) session.apply(op);
    } catch (err) {
      session.rollback();
      throw err;
    }
    this.root = session.root;
    return session.touched;
  }

  private indexSubtree(node: TreeNode, parent: string | null): void {
    if (this.byId.has(node.id)) throw new PatchConflict(`duplicate node id ${node.id}`);
    this.byId.set(node.id, node);
    this.parentOf.set(node.id, parent);
    for (const child of node.children) this.indexSubtree(child, node.id);
  }
}

const ABSENT = Symbol("absent");

/** One patch in progress: copy-on-write of nodes and arrays, with an undo log of the index. */
class PatchSession {
  readonly touched = new Set<string>();
  private readonly owned = new Set<object>();
  private readonly undoById = new Map<string, TreeNode | typeof ABSENT>();
  private readonly undoParent = new Map<string, string | null | typeof ABSENT>();

  constructor(
    public root: TreeNode,
    private readonly byId: Map<string, TreeNode>,
    private readonly parentOf: Map<string, string | null>,
  ) {}

  apply(op: PatchOp): void {
    if ("set" in op) {
      const props = this.writableProps(this.writable(op.id));
      for (const key of Object.keys(op.set)) props[key] = op.set[key];
      this.touched.add(op.id);
    } else if ("unset" in op) {
      const props = this.writableProps(this.writable(op.id));
      for (const key of op.unset) delete props[key];
      this.touched.add(op.id);
    } else if ("insert" in op) {
      // Ops carry unknown fields through (PHL-CLIENT-013), so `in` narrows to the variant only
      // up to them: the validated op is an InsertOp.
      const { index } = op as InsertOp;
      const parent = this.writable(op.id);
      const children = this.writableChildren(parent);
      if (index > children.length) throw new PatchConflict(`insert index ${index} out of range`);
      const node = normaliseNode(op.insert);
      this.indexNew(node, op.id);
      children.splice(index, 0, node);
      this.touched.add(op.id);
    } else if ("remove" in op) {
      const parentId = this.existingParent(op.id, "remove");
      this.detach(op.id, parentId);
      this.unindex(this.node(op.id));
    } else if ("move" in op) {
      const { index } = op as MoveOp;
      const oldParent = this.existingParent(op.id, "move");
      this.node(op.move);
      for (let p: string | null | undefined = op.move; p != null; p = this.parentOf.get(p)) {
        if (p === op.id) throw new PatchConflict(`cannot move ${op.id} into its own subtree`);
      }
      const node = this.detach(op.id, oldParent);
      const children = this.writableChildren(this.writable(op.move));
      if (index > children.length) throw new PatchConflict(`move index ${index} out of range`);
      children.splice(index, 0, node);
      this.setParent(op.id, op.move);
      this.touched.add(op.move);
    } else if ("replace" in op) {
      const old = this.node(op.id);
      const parentId = this.parentOf.get(op.id) ?? null;
      const node = normaliseNode(op.replace);
      this.unindex(old);
      this.indexNew(node, parentId);
      if (parentId === null) {
        this.root = node;
      } else {
        const children = this.writableChildren(this.writable(parentId));
        children[children.indexOf(old)] = node;
        this.touched.add(parentId);
      }
      this.touched.add(op.id);
    } else {
      throw new PatchConflict("unknown op");
    }
  }

  rollback(): void {
    for (const [id, prev] of this.undoById) {
      if (prev === ABSENT) this.byId.delete(id);
      else this.byId.set(id, prev);
    }
    for (const [id, prev] of this.undoParent) {
      if (prev === ABSENT) this.parentOf.delete(id);
      else this.parentOf.set(id, prev);
    }
  }

  private node(id: string): TreeNode {
    const node = this.byId.get(id);
    if (!node) throw new PatchConflict(`unknown node ${id}`);
    return node;
  }

  private existingParent(id: string, what: string): string {
    this.node(id);
    const parent = this.parentOf.get(id);
    if (parent == null) throw new PatchConflict(`cannot ${what} the root`);
    return parent;
  }

  /** Removes node `id` from its parent's children (the node stays indexed). */
  private detach(id: string, parentId: string): TreeNode {
    const node = this.node(id);
    const children = this.writableChildren(this.writable(parentId));
    children.splice(children.indexOf(node), 1);
    this.touched.add(parentId);
    return node;
  }

  /** The node `id`, copied once per patch, with the path to the root re-pointed at the copy. */
  private writable(id: string): DraftNode {
    const node = this.node(id);
    if (this.owned.has(node)) return node as DraftNode;
    const copy: DraftNode = {
      id: node.id,
      type: node.type,
      props: node.props as Record<string, unknown>,
      children: node.children as TreeNode[],
    };
    this.owned.add(copy);
    this.setById(id, copy);
    const parentId = this.parentOf.get(id);
    if (parentId == null) {
      this.root = copy;
    } else {
      const siblings = this.writableChildren(this.writable(parentId));
      siblings[siblings.indexOf(node)] = copy;
    }
    return copy;
  }

  private writableProps(node: DraftNode): Record<string, unknown> {
    if (!this.owned.has(node.props)) {
      node.props = { ...node.props };
      this.owned.add(node.props);
    }
    return node.props;
  }

  private writableChildren(node: DraftNode): TreeNode[] {
    if (!this.owned.has(node.children)) {
      node.children = node.children.slice();
      this.owned.add(node.children);
    }
    return node.children;
  }

  /** Indexes a new subtree; its ids must not already exist (PHL-TREE-002). */
  private indexNew(node: TreeNode, parent: string | null): void {
    if (this.byId.has(node.id)) throw new PatchConflict(`duplicate node id ${node.id}`);
    this.setById(node.id, node);
    this.setParent(node.id, parent);
    this.touched.add(node.id);
    for (const child of node.children) this.indexNew(child, node.id);
  }

  private unindex(node: TreeNode): void {
    const current = this.byId.get(node.id) ?? node;
    this.setById(node.id, undefined);
    this.setParent(node.id, undefined);
    this.touched.delete(node.id);
    for (const child of current.children) this.unindex(child);
  }

  private setById(id: string, node: TreeNode | undefined): void {
    if (!this.undoById.has(id)) this.undoById.set(id, this.byId.get(id) ?? ABSENT);
    if (node === undefined) this.byId.delete(id);
    else this.byId.set(id, node);
  }

  private setParent(id: string, parent: string | null | undefined): void {
    if (!this.undoParent.has(id)) {
      this.undoParent.set(id, this.parentOf.has(id) ? (this.parentOf.get(id) as string | null) : ABSENT);
    }
    if (parent === undefined) this.parentOf.delete(id);
    else this.parentOf.set(id, parent);
  }
}
