/**
 * Draws the template icon (48x48 PNG, the size the controller requires) with pngjs:
 * a rounded square holding three states joined by transitions.
 * `tsx build/icon.ts` rewrites template/template_icon.png; run `npm run generate` after,
 * so the template records the new file size.
 */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";

export const ICON_SIZE = 48;
const BACKGROUND: readonly [number, number, number] = [0xcd, 0x20, 0x64];
const FOREGROUND: readonly [number, number, number] = [0xff, 0xff, 0xff];

/** Coverage (0..1) of a pixel by the icon's shapes, sampled 4x4 for smooth edges. */
function coverage(x: number, y: number, inside: (px: number, py: number) => boolean): number {
  let hits = 0;
  for (let i = 0; i < 4; i++)
    for (let j = 0; j < 4; j++) if (inside(x + (i + 0.5) / 4, y + (j + 0.5) / 4)) hits++;
  return hits / 16;
}

function inRoundedSquare(px: number, py: number): boolean {
  const r = 9;
  const cx = Math.min(Math.max(px, r), ICON_SIZE - r);
  const cy = Math.min(Math.max(py, r), ICON_SIZE - r);
  return (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
}

const STATES: ReadonlyArray<readonly [number, number]> = [
  [24, 11],
  [14, 35],
  [34, 35],
];

function inStates(px: number, py: number): boolean {
  if (STATES.some(([cx, cy]) => (px - cx) ** 2 + (py - cy) ** 2 <= 5.5 ** 2)) return true;
  // Transitions: from the first state to each of the other two, 2.4 px wide.
  const [ax, ay] = STATES[0] ?? [0, 0];
  return STATES.slice(1).some(([bx, by]) => {
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
    return (px - (ax + t * dx)) ** 2 + (py - (ay + t * dy)) ** 2 <= 1.2 ** 2;
  });
}

/** The icon's PNG bytes. */
export function drawIcon(): Buffer {
  const png = new PNG({ width: ICON_SIZE, height: ICON_SIZE });
  for (let y = 0; y < ICON_SIZE; y++) {
    for (let x = 0; x < ICON_SIZE; x++) {
      const shape = coverage(x, y, inRoundedSquare);
      const mark = coverage(x, y, inStates);
      const i = (y * ICON_SIZE + x) * 4;
      for (let c = 0; c < 3; c++) {
        const bg = BACKGROUND[c] ?? 0;
        const fg = FOREGROUND[c] ?? 0;
        png.data[i + c] = Math.round(bg + (fg - bg) * mark);
      }
      png.data[i + 3] = Math.round(255 * shape);
    }
  }
  return PNG.sync.write(png, { colorType: 6 });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "template",
    "template_icon.png",
  );
  await writeFile(target, drawIcon());
  console.log(`wrote ${target}`);
}
