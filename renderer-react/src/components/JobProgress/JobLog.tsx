import { Fragment, useLayoutEffect, useRef } from "react";

/** How close to the bottom (px) a reader must be for new lines to keep the view at the bottom. */
const STICK_PX = 8;

/**
 * A job's newest log lines, one per row, the newest at the bottom; the box is clamped in
 * height and follows new lines unless the reader has scrolled up to read older ones.
 *
 * The node's projected text is the lines joined by a space (spec/1.1/components/JobProgress.md),
 * and a browser adapter reads a Text's text as displayed (`innerText`, PHL-CLIENT-014). So each
 * row is an inline-block as wide as the box, separated by a space text node: the rows stack,
 * yet an inline-level box adds no line break to `innerText`, which joins them with that space.
 * A block row (or a flex/grid item) would put a line break there instead. No ARIA role: the
 * projection's role for this node is `text` (an explicit `log` role would be read as `log`).
 */
export function JobLog({ id, lines }: { id: string; lines: readonly string[] }) {
  const box = useRef<HTMLDivElement>(null);
  const stuck = useRef(true); // follows the newest line until the reader scrolls up
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stuck.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <div
      ref={box}
      className="ph-job__log"
      data-node-id={id}
      data-node-type="Text"
      onScroll={(e) => {
        const el = e.currentTarget;
        stuck.current = el.scrollHeight - el.scrollTop - el.clientHeight <= STICK_PX;
      }}
    >
      {lines.map((line, i) => (
        // Rows are positional (the newest N lines): the index is their identity.
        <Fragment key={i}>
          {i > 0 ? " " : null}
          <span className="ph-job__line">{line}</span>
        </Fragment>
      ))}
    </div>
  );
}
