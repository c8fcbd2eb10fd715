import { useId } from "react";
import type { TextInputProps } from "../../core/wire.gen";
import { useBound } from "../../react/useBound";
import type { NodeProps } from "../../registry";

/**
 * A labelled single-line text field (PHL-COMP-019). Each edit goes to the client core, which
 * coalesces them into `change` events carrying the complete text (PHL-COMP-020) and decides
 * what the field shows: the user's text while any of it is unsent or unanswered, else the
 * node's `value` (the echo rule, PHL-COMP-021), as for every bound value (`useBound`). A
 * disabled field emits nothing.
 */
export function TextInput({ id, type, props, attrs }: NodeProps<TextInputProps>) {
  const bound = useBound(id, type, props);
  const fieldId = useId();
  const noteId = `${fieldId}-note`;
  // Props that do not validate read as absent (PHL-COMP-004).
  const label = typeof props.label === "string" ? props.label : "";
  const value = typeof bound.value === "string" ? bound.value : "";
  const disabled = props.disabled === true;
  const tooLong = bound.tooLong;
  return (
    <div {...attrs} className="ph-textinput">
      <label className="ph-textinput__label" htmlFor={fieldId}>
        {label}
      </label>
      <input
        id={fieldId}
        type="text"
        className="ph-textinput__field"
        value={value}
        placeholder={typeof props.placeholder === "string" ? props.placeholder : undefined}
        disabled={disabled}
        aria-invalid={tooLong || undefined}
        aria-describedby={tooLong ? noteId : undefined}
        onChange={(e) => {
          if (!disabled) bound.set(e.currentTarget.value);
        }}
      />
      {tooLong ? (
        <p id={noteId} className="ph-textinput__note" role="alert">
          Too long to send. Shorten the text to send it.
        </p>
      ) : null}
    </div>
  );
}
