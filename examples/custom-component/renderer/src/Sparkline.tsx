import type { NodeProps } from "@phloem/react";

export interface SparklineProps {
  values?: unknown;
  label?: unknown;
}

const WIDTH = 160;
const HEIGHT = 40;
const PAD = 4; // room for the points' circles at the edges

/** A line of numbers; clicking a point emits `pick` with its index. */
export function Sparkline({ props, attrs, emit }: NodeProps<SparklineProps>) {
  // Props come from the network: read what is valid, ignore the rest.
  const values = Array.isArray(props.values)
    ? props.values.filter((v): v is number => typeof v === "number" && Number.isFinite(v))
    : [];
  const label = typeof props.label === "string" ? props.label : "sparkline";
  const lo = Math.min(...values, 0);
  const hi = Math.max(...values, lo + 1);
  const x = (i: number) => PAD + (values.length > 1 ? (i * (WIDTH - 2 * PAD)) / (values.length - 1) : 0);
  const y = (v: number) => PAD + (HEIGHT - 2 * PAD) * (1 - (v - lo) / (hi - lo));
  return (
    <svg {...attrs} role="img" aria-label={label} width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`}>
      <polyline fill="none" stroke="currentColor" points={values.map((v, i) => `${x(i)},${y(v)}`).join(" ")} />
      {values.map((v, i) => (
        <circle key={i} data-index={i} cx={x(i)} cy={y(v)} r={PAD} onClick={() => emit("pick", i)}>
          <title>{`${label}: ${v}`}</title>
        </circle>
      ))}
    </svg>
  );
}
