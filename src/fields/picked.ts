/**
 * The values of the picker fields (State Machine, Execution). A picked choice reads
 * "<label> <ARN>": the label for the person choosing, the ARN for the program, which takes
 * the last word. A bare ARN (a fields file, a flag) is a value as good as a picked one.
 */

/** The text of one choice: what the form shows and what the field then holds. */
export function choiceText(label: string, arn: string): string {
  return `${label} ${arn}`;
}

/** The ARN a picker field's value holds (its last word). */
export function arnOfChoice(value: string): string {
  const words = value.trim().split(/\s+/);
  return words[words.length - 1] ?? "";
}
