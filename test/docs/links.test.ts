/**
 * The documentation's relative links: every one in README.md and docs/ names a file that
 * exists and, with a #fragment, a heading of that file (GitHub's anchors).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { ROOT } from "../helpers/paths.ts";

/** The Markdown text outside fenced code blocks and inline code. */
function prose(markdown: string): string {
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      lines.push("");
      continue;
    }
    lines.push(fenced ? "" : line.replace(/`[^`]*`/g, "``"));
  }
  return lines.join("\n");
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a Markdown file's headings, with GitHub's -1, -2 for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? "");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Relative link targets of a Markdown text: [text](target), external ones left out. */
function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const match of prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1] ?? "";
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    links.push(target);
  }
  return links;
}

/** Broken links of one page, as "target: reason". */
async function brokenLinks(page: string): Promise<string[]> {
  const text = await readFile(page, "utf8");
  const problems: string[] = [];
  for (const target of relativeLinks(text)) {
    const [path = "", fragment] = target.split("#", 2);
    const file = path === "" ? page : join(dirname(page), decodeURIComponent(path));
    if (!existsSync(file)) {
      problems.push(`${target}: ${relative(ROOT, file)} does not exist`);
      continue;
    }
    if (fragment === undefined) continue;
    if (!file.endsWith(".md")) {
      problems.push(`${target}: a #fragment into a file that is not Markdown`);
      continue;
    }
    const headings = anchors(await readFile(file, "utf8"));
    if (!headings.has(fragment)) {
      problems.push(`${target}: ${relative(ROOT, file)} has no heading #${fragment}`);
    }
  }
  return problems;
}

const docs = (await readdir(join(ROOT, "docs")))
  .filter((name) => name.endsWith(".md"))
  .map((name) => join(ROOT, "docs", name));
const pages = [join(ROOT, "README.md"), ...docs];

describe("documentation links", () => {
  test("anchors are GitHub's: lower case, punctuation dropped, spaces to dashes", () => {
    const cases: Array<[string, string]> = [
      ["The demo: `npm start`", "the-demo-npm-start"],
      ["Cancel, maximum wait, rerun", "cancel-maximum-wait-rerun"],
      [
        "Proxy Credentials (HTTPS With Credentials only)",
        "proxy-credentials-https-with-credentials-only",
      ],
      ["From other schedulers' command lines", "from-other-schedulers-command-lines"],
    ];
    for (const [heading, anchor] of cases) assert.equal(slug(heading), anchor, heading);
    assert.deepEqual([...anchors("# A\n## A\n```\n# not a heading\n```\n## B")], ["a", "a-1", "b"]);
  });

  test("broken links are found: a missing file, a missing heading, here or elsewhere", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ue-sfn-links-"));
    try {
      await writeFile(join(dir, "other.md"), "# Other\n## Part two\n");
      await writeFile(
        join(dir, "page.md"),
        "# Top\n[a](#top) [b](other.md#part-two) [c](https://example.com/x.md)\n" +
          "[d](missing.md) [e](#nowhere) [f](other.md#part-three) `[g](#code)`\n",
      );
      const problems = await brokenLinks(join(dir, "page.md"));
      assert.equal(problems.length, 3, problems.join("\n"));
      assert.match(problems[0] ?? "", /^missing\.md: .* does not exist$/);
      assert.match(problems[1] ?? "", /^#nowhere: .* has no heading #nowhere$/);
      assert.match(problems[2] ?? "", /^other\.md#part-three: .* has no heading #part-three$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const page of pages) {
    test(`${relative(ROOT, page)}: every relative link resolves to a file and heading`, async () => {
      assert.ok(relativeLinks(await readFile(page, "utf8")).length > 0, "the page links nowhere");
      assert.deepEqual(await brokenLinks(page), []);
    });
  }

  test("every page of docs/ is linked from the README", async () => {
    const linked = new Set(
      relativeLinks(await readFile(join(ROOT, "README.md"), "utf8")).map(
        (target) => target.split("#")[0],
      ),
    );
    for (const page of docs) assert.ok(linked.has(relative(ROOT, page)), relative(ROOT, page));
  });
});
