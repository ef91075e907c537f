/**
 * Taking over a stale lease: what was judged stale is removed, but never a lease a peer has
 * taken since the judgement (which would let a third task list at the same time).
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { removeStaleLease } from "../../src/wait-sharing/shared-status.ts";

let folder: string;
let lease: string;
let aside: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "ue-lease-"));
  lease = join(folder, "lease");
  aside = join(folder, "lease.stale.1");
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Writes a lease and reads it back as a task judging it would. */
async function plant(content: object): Promise<{ text: string; mtimeMs: number }> {
  await writeFile(lease, JSON.stringify(content), { mode: 0o600 });
  return { text: await readFile(lease, "utf8"), mtimeMs: (await stat(lease)).mtimeMs };
}

describe("removeStaleLease", () => {
  test("the lease judged stale is removed, and nothing is left beside it", async () => {
    const judged = await plant({ pid: 11, until: Date.now() - 1_000 });
    assert.equal(removeStaleLease(lease, judged, aside), true);
    assert.deepEqual(await readdir(folder), []);
  });

  test("a lease a peer took over since the judgement stays in place", async () => {
    const judged = await plant({ pid: 11, until: Date.now() - 1_000 });
    // The peer removed the stale lease and took its own meanwhile.
    await unlink(lease);
    const peers = JSON.stringify({ pid: 12, until: Date.now() + 15_000, since: Date.now() });
    await writeFile(lease, peers, { mode: 0o600 });
    assert.equal(removeStaleLease(lease, judged, aside), false);
    assert.equal(await readFile(lease, "utf8"), peers);
    assert.deepEqual(await readdir(folder), ["lease"]);
  });

  test("a lease rewritten in place (same file, new content) stays too", async () => {
    const judged = await plant({ pid: 11, until: Date.now() - 1_000 });
    const peers = JSON.stringify({ pid: 11, until: Date.now() + 15_000, failed: true });
    await writeFile(lease, peers);
    assert.equal(removeStaleLease(lease, judged, aside), false);
    assert.equal(await readFile(lease, "utf8"), peers);
  });

  test("a lease already gone: free to take, nothing created", async () => {
    const judged = await plant({ pid: 11, until: Date.now() - 1_000 });
    await unlink(lease);
    assert.equal(removeStaleLease(lease, judged, aside), true);
    assert.deepEqual(await readdir(folder), []);
  });
});
