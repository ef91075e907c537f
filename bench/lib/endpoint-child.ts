/**
 * The local endpoint in a process of its own, for the scale benchmark: there it stands in
 * for AWS, which does not share the machine's CPU with the waiting tasks, so the tasks'
 * start-up storm slows it no more than the operating system's scheduler lets it. Driven by
 * the parent over Node's IPC channel (see endpoint-process.ts).
 */
import { performance } from "node:perf_hooks";
import { type LocalEndpoint, startLocalEndpoint } from "../../local/endpoint/index.ts";
import type { ThrottleConfig } from "../../local/endpoint/faults.ts";
import { HOLD_RESOURCE } from "./endpoint-process.ts";

export type Command =
  | {
      readonly id: number;
      readonly op: "createStateMachine";
      readonly name: string;
      readonly definition: unknown;
    }
  | {
      readonly id: number;
      readonly op: "throttle";
      readonly buckets: Record<string, ThrottleConfig>;
    }
  | { readonly id: number; readonly op: "clear" }
  | { readonly id: number; readonly op: "counts" }
  | { readonly id: number; readonly op: "report"; readonly executionArns: readonly string[] }
  | { readonly id: number; readonly op: "release"; readonly spreadMs: number }
  | { readonly id: number; readonly op: "close" };

const region = process.argv[2] ?? "us-east-1";
const ep: LocalEndpoint = await startLocalEndpoint({ region });
/** When each accepted DescribeExecution took its token, on the bucket's own clock (ms). */
let accepted: number[] = [];
const admit = ep.faults.admit.bind(ep.faults);
ep.faults.admit = (operation: string) => {
  const ok = admit(operation);
  if (ok && operation === "DescribeExecution") accepted.push(performance.now());
  return ok;
};

/** The held executions, in the order they reached their Task state. */
const held: Array<(output: unknown) => void> = [];
ep.registerTaskHandler(HOLD_RESOURCE, () => new Promise<unknown>((resolve) => held.push(resolve)));

function answer(command: Command): unknown {
  switch (command.op) {
    case "createStateMachine":
      return ep.createStateMachine({ name: command.name, definition: command.definition as never });
    case "throttle":
      ep.faults.reset();
      for (const [operation, bucket] of Object.entries(command.buckets))
        ep.faults.throttle(operation, bucket);
      return null;
    case "clear":
      ep.clearRequests();
      accepted = [];
      return null;
    case "counts": {
      const count = (operation: string) => ep.faults.counter(operation);
      return {
        StartExecution: count("StartExecution"),
        DescribeExecution: count("DescribeExecution"),
        ListExecutions: count("ListExecutions"),
      };
    }
    case "report":
      return {
        accepted,
        requests: ep.requests.map((r) => ({
          operation: r.operation,
          resource: r.resource,
          fault: r.fault,
          errorCode: r.errorCode,
          time: r.time.getTime(),
        })),
        stops: Object.fromEntries(
          command.executionArns.map((arn) => [
            arn,
            ep.getExecution(arn)?.stopDate?.getTime() ?? null,
          ]),
        ),
        ListExecutions: ep.faults.counter("ListExecutions"),
      };
    case "release": {
      // The held executions end one after another, evenly over spreadMs, oldest first.
      const ending = held.splice(0);
      ending.forEach((resolve, i) => {
        setTimeout(() => resolve({ released: i }), (i * command.spreadMs) / ending.length);
      });
      return ending.length;
    }
    case "close":
      return null;
  }
}

process.on("message", (command: Command) => {
  let reply: { id: number; value?: unknown; error?: string };
  try {
    reply = { id: command.id, value: answer(command) };
  } catch (error) {
    reply = { id: command.id, error: (error as Error).message };
  }
  process.send?.(reply, () => {
    if (command.op === "close") void ep.close().then(() => process.exit(0));
  });
});
process.send?.({ id: 0, value: { url: ep.url, credentials: ep.credentials } });
