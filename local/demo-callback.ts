/**
 * The callback round trip of the demo, as it runs in production: the approval state machine
 * sends a task token to an approvals queue (SQS in AWS) and waits; a queue reader launches
 * the release task with the message's token as a variable (as a controller trigger or its
 * web service would); the release task answers with Send Task Success; the first task, which
 * has waited all along, ends SUCCEEDED with the output the release task sent.
 *
 * Locally the queue is the endpoint's handler for the SQS resource: it receives the message
 * body the state machine built, and nothing else.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalEndpoint } from "./endpoint/index.ts";
import type { TaskResult } from "./runner/events.ts";
import type { ControllerRunner, TaskDefinition } from "./runner/runner.ts";
import { loadRunFile } from "./runner/cli.ts";
import { WorkflowRun } from "./runner/workflow.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CALLBACK_WORKFLOW = join(ROOT, "examples", "workflows", "callback.workflow.json");
export const RELEASE_TASK = join(ROOT, "examples", "tasks", "release-approval.task.json");
const SEND_MESSAGE = "arn:aws:states:::sqs:sendMessage";

interface ApprovalMessage {
  taskToken: string;
  batchId: string;
}

/** A stand-in for the approvals queue: the endpoint delivers the messages the state machine sends. */
export function approvalsQueue(endpoint: LocalEndpoint): {
  next(timeoutMs: number): Promise<ApprovalMessage>;
  close(): void;
} {
  const messages: ApprovalMessage[] = [];
  const waiting: Array<(m: ApprovalMessage) => void> = [];
  const unregister = endpoint.registerTaskHandler(SEND_MESSAGE, (input) => {
    const body = (input as { MessageBody?: ApprovalMessage }).MessageBody;
    if (!body) return;
    const reader = waiting.shift();
    if (reader) reader(body);
    else messages.push(body);
  });
  return {
    next: (timeoutMs) =>
      new Promise((resolveMessage, reject) => {
        const ready = messages.shift();
        if (ready) return resolveMessage(ready);
        const timer = setTimeout(() => reject(new Error("no approval message arrived")), timeoutMs);
        waiting.push((m) => {
          clearTimeout(timer);
          resolveMessage(m);
        });
      }),
    close: unregister,
  };
}

export interface RoundTrip {
  readonly awaited: TaskResult;
  readonly released: TaskResult;
}

/**
 * Run the round trip on a runner against the local endpoint (vars: endpoint_url, credential,
 * approval_state_machine_arn). `workMs` stands for the on-premises work done between the
 * message's arrival and the answer. `onMessage` hears of the message (never its token).
 */
export async function callbackRoundTrip(
  runner: ControllerRunner,
  endpoint: LocalEndpoint,
  vars: Record<string, string>,
  workMs = 5_000,
  onMessage?: (message: { batchId: string; workMs: number }) => void,
): Promise<RoundTrip> {
  const queue = approvalsQueue(endpoint);
  try {
    const workflow = new WorkflowRun(runner, await loadRunFile(CALLBACK_WORKFLOW), { vars });
    const waiting = workflow.run();
    const message = await queue.next(60_000);
    onMessage?.({ batchId: message.batchId, workMs });
    await new Promise((r) => setTimeout(r, workMs));
    const release = JSON.parse(await readFile(RELEASE_TASK, "utf8")) as TaskDefinition;
    const releasing = runner.launch(release, {
      scope: {
        vars: { ...vars, task_token: message.taskToken, batch_id: message.batchId },
        task: () => undefined,
      },
    });
    const released = await releasing.result;
    const finished = await waiting;
    const first = finished.tasks[0];
    if (!first?.ran) throw new Error("the waiting task did not run");
    return { awaited: first.result, released };
  } finally {
    queue.close();
  }
}
