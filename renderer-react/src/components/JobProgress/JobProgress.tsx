import { useId } from "react";
import type { NodeProps } from "../../registry";
import { TERMINAL } from "../../core/jobs";
import { usePhloem } from "../../react/context";
import { useJob } from "../../react/useJob";
import { JobLog } from "./JobLog";

interface JobProgressProps {
  job?: unknown;
  label?: unknown;
  cancel?: unknown;
  log?: unknown;
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s left`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min left` : `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/**
 * Shows the job its `job` prop names, from the job store, never from tree props (PHL-JOB-070):
 * state · stage · message with the percentage, time left and a cancel control on its right, a
 * bar as wide as the component, and the newest log lines (projection:
 * spec/1.1/components/JobProgress.md, PHL-JOB-071).
 *
 * The node is a `group` named by the label, holding the `progressbar` (`<id>/bar`), then the
 * cancel control, then the log: a progressbar's descendants are presentational in WAI-ARIA, so
 * a Cancel inside the bar would never reach a screen reader. The bar is described by the status
 * line and the time left, so reading the bar alone says where the job is. DOM order is reading
 * order (status, bar, Cancel, log); the grid places them as the look wants.
 */
export function JobProgress({ id, props, attrs }: NodeProps<JobProgressProps>) {
  const { client } = usePhloem();
  const statusId = useId();
  const etaId = useId();
  const jobId = typeof props.job === "string" ? props.job : "";
  const job = useJob(jobId);
  const state = job?.state ?? "queued"; // not heard of yet: shown as queued, no cancel
  // Rounded down (the projection's rule), after undoing binary rounding: 0.57 * 100 is 56.99…
  const percent = job?.fraction === undefined ? undefined : Math.floor(Math.round(job.fraction * 1e6) / 1e4);
  // A group and a progressbar each need an accessible name.
  const label = typeof props.label === "string" && props.label !== "" ? props.label : "Job";
  const text = [state, job?.stage, job?.message, state === "failed" ? job?.error?.message : undefined]
    .filter((part) => part)
    .join(" · ");
  const cancellable = job !== undefined && props.cancel !== false && !TERMINAL.has(state) && !job.cancelRequested;
  const logLines = typeof props.log === "number" && props.log > 0 ? (job?.log.slice(-Math.min(props.log, 200)) ?? []) : [];
  const running = !TERMINAL.has(state);
  const eta = running && job?.eta !== undefined ? formatEta(job.eta) : undefined;
  // Shown by CSS from attributes, hidden from assistive technology: the bar's value says the
  // percentage, its description the time left (text in the DOM, not CSS content, WCAG F87).
  // Neither is part of the projected text.
  const meta = {
    ...(running && percent !== undefined ? { "data-percent": `${percent}%` } : {}),
    ...(eta === undefined ? {} : { "data-eta": eta }),
  };
  return (
    <div {...attrs} className={`ph-job ph-job--${state}`} role="group" aria-label={label}>
      <span className="ph-job__text" id={statusId}>
        {text}
      </span>
      {Object.keys(meta).length > 0 ? <span className="ph-job__meta" aria-hidden="true" {...meta} /> : null}
      <div
        className={`ph-job__bar${percent === undefined ? " ph-job__bar--indeterminate" : ""}`}
        data-node-id={`${id}/bar`}
        data-node-type="JobProgress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        {...(percent === undefined ? {} : { "aria-valuenow": percent, "aria-valuetext": `${percent}%` })}
        aria-describedby={eta === undefined ? statusId : `${statusId} ${etaId}`}
      >
        <div className="ph-job__fill" style={{ width: `${percent ?? 100}%` }} />
        {/* Read only through aria-describedby (a referenced hidden element still counts). */}
        {eta === undefined ? null : (
          <span id={etaId} hidden>
            {`· ${eta}` /* joined to the status line by a space: "running · k = 3 · 30 s left" */}
          </span>
        )}
      </div>
      {cancellable ? (
        <button
          type="button"
          className="ph-button ph-button--secondary ph-job__cancel"
          data-node-id={`${id}/cancel`}
          data-node-type="Button"
          onClick={() => client.cancelJob(jobId)}
        >
          Cancel
        </button>
      ) : null}
      {logLines.length > 0 ? <JobLog id={`${id}/log`} lines={logLines} /> : null}
    </div>
  );
}
