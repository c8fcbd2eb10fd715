import { describe, expect, it } from "vitest";
import { endingAfterClose, endingAfterFatal } from "../../src/core";
import { FINAL_CLOSES, FINAL_ERRORS } from "../../src/core/catalog.gen";

// What a client does after a close or a fatal error (PHL-CLIENT-001 … 003); the final codes
// and the close code that follows each come from the error table (schemas/, generated).

describe("close policy", () => {
  it("stops for good after the close code of a final error, as after the error itself", () => {
    expect(endingAfterClose(4406)).toBe("version");
    expect(endingAfterClose(4401)).toBe("unauthorized");
    expect(FINAL_CLOSES.size).toBe(FINAL_ERRORS.size);
    for (const [close, error] of FINAL_CLOSES) {
      expect(FINAL_ERRORS.has(error)).toBe(true);
      expect(endingAfterClose(close)).toBe(endingAfterFatal(error));
    }
  });

  it("stops after a take-over (4409) and a normal close (1000)", () => {
    expect(endingAfterClose(4409)).toBe("taken-over");
    expect(endingAfterClose(1000)).toBe("ended");
  });

  it("retries after any other code, known or not", () => {
    for (const code of [1001, 1006, 1011, 4000, 4002, 4400, 4999]) expect(endingAfterClose(code)).toBeNull();
  });

  it("stops after a final error and resumes after any other fatal one", () => {
    expect(endingAfterFatal("version_unsupported")).toBe("version");
    expect(endingAfterFatal("unauthorized")).toBe("unauthorized");
    expect(endingAfterFatal("internal_error")).toBeNull();
    expect(endingAfterFatal("a_code_from_a_later_version")).toBeNull();
  });
});
