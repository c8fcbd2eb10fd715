import type { NodeProps } from "../../registry";
import type { ButtonProps } from "../../core/wire.gen";

const VARIANTS = new Set(["primary", "secondary", "danger"]);

/** A button (PHL-COMP-012): click → event `click`; a disabled button sends nothing (PHL-COMP-013). */
export function Button({ props, attrs, emit }: NodeProps<ButtonProps>) {
  const disabled = props.disabled === true;
  const variant = typeof props.variant === "string" && VARIANTS.has(props.variant) ? props.variant : "primary";
  return (
    <button
      {...attrs}
      type="button"
      className={`ph-button ph-button--${variant}`}
      disabled={disabled}
      onClick={disabled ? undefined : () => emit("click")}
    >
      {typeof props.label === "string" ? props.label : "" /* invalid reads as absent (PHL-COMP-004) */}
    </button>
  );
}
