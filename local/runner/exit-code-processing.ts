/** The template's exit-code processing: which exit codes make the task a success. */
/** Parse a controller exit-code list such as "0", "0,3" or "0-2,10". */
export function parseExitCodeRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const match = /^(-?\d+)(?:\s*-\s*(-?\d+))?$/.exec(part);
    if (!match?.[1])
      throw new Error(`exit code list "${text}": "${part}" is not a code or a range`);
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (high < low) throw new Error(`exit code list "${text}": range ${part} is backwards`);
    ranges.push([low, high]);
  }
  if (ranges.length === 0) throw new Error(`exit code list "${text}" is empty`);
  return ranges;
}

export function inRanges(code: number, ranges: ReadonlyArray<readonly [number, number]>): boolean {
  return ranges.some(([low, high]) => code >= low && code <= high);
}

/** True when the exit code means success under the template's exit-code processing. */
export function isSuccessExitCode(
  template: Readonly<Record<string, unknown>>,
  code: number,
): boolean {
  const processing = String(template["exitCodeProcessing"] ?? "Success Exitcode Range");
  const ranges = parseExitCodeRanges(String(template["exitCodes"] ?? "0"));
  switch (processing) {
    case "Success Exitcode Range":
      return inRanges(code, ranges);
    case "Failure Exitcode Range":
      return !inRanges(code, ranges);
    default:
      throw new Error(`exit code processing "${processing}" is not supported by this runner`);
  }
}
