/**
 * "Did you mean ...?" for a name nobody knows: the known name fewest edits away.
 * Runs only when a name is wrong, over a few dozen names of a few dozen characters.
 */

/**
 * Edits (insert, delete, replace, swap two neighbours) that turn a into b: the
 * optimal-string-alignment distance, so "POLLNIG" is one edit from "POLLING".
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the table: two back (for swaps), the previous one, the current one.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The known name closest to a wrong one, when it is close enough to be a slip: at most a
 * third of the name's length in edits (at least 1, at most 4), or when one name begins
 * with the other and is not much longer (a part left off or added). Case is ignored; ties go to the earlier name.
 */
export function closestName(wrong: string, known: readonly string[]): string | undefined {
  const target = wrong.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(target, name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  const allowed = Math.min(4, Math.max(1, Math.floor(target.length / 3)));
  if (best.distance <= allowed) return best.name;
  // "UE_FIELD_CREDENTIALS" for UE_FIELD_CREDENTIALS_USER: a part left off or added.
  return known.find((n) => {
    const lower = n.toLowerCase();
    const [short, long] = lower.length < target.length ? [lower, target] : [target, lower];
    return long.startsWith(short) && short.length >= 0.6 * long.length;
  });
}
