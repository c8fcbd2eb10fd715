import type { NodeProps } from "../../registry";
import { TERMINAL } from "../../core/jobs";
import { usePhloem } from "../../react/context";
import { useJob } from "../../react/useJob";

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
 * bar, state · stage · message, time left, the newest log lines and a cancel control
 * (projection: spec/1.1/components/JobProgress.md, PHL-JOB-071).
 */
export function JobProgress({ id, props, attrs }: NodeProps<JobProgressProps>) {
  const { client } = usePhloem();
  const jobId = typeof props.job === "string" ? props.job : "";
  const job = useJob(jobId);
  const state = job?.state ?? "queued"; // not heard of yet: shown as queued, no cancel
  const percent = job?.fraction === undefined ? undefined : Math.floor(job.fraction * 100);
  const label = typeof props.label === "string" ? props.label : "Job";
  const text = [state, job?.stage, job?.message, state === "failed" ? job?.error?.message : undefined]
    .filter((part) => part)
    .join(" · ");
  const cancellable = job !== undefined && props.cancel !== false && !TERMINAL.has(state) && !job.cancelRequested;
  const logLines = typeof props.log === "number" && props.log > 0 ? (job?.log.slice(-Math.min(props.log, 200)) ?? []) : [];
  return (
    <div
      {...attrs}
      className={`ph-job ph-job--${state}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      {...(percent === undefined ? {} : { "aria-valuenow": percent, "aria-valuetext": `${percent}%` })}
      aria-busy={!TERMINAL.has(state)}
    >
      <div className={`ph-job__bar${percent === undefined ? " ph-job__bar--indeterminate" : ""}`} aria-hidden="true">
        <div className="ph-job__fill" style={{ width: `${percent ?? 100}%` }} />
      </div>
      <span className="ph-job__text">{text}</span>
      {job?.eta !== undefined && !TERMINAL.has(state) ? (
        // Shown by CSS from the attribute: the time left is not part of the projected text.
        <span className="ph-job__eta" aria-hidden="true" data-eta={formatEta(job.eta)} />
      ) : null}
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
      {logLines.length > 0 ? (
        <pre className="ph-job__log" data-node-id={`${id}/log`} data-node-type="Text">
          {logLines.join("\n")}
        </pre>
      ) : null}
    </div>
  );
}
