/**
 * The narrow view of Step Functions the actions use: one method per operation, named as
 * the SDK's aggregated client names them, implemented on SFNClient.send with the single
 * Commands (the aggregated class would pull every command into the bundle).
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandInput,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  type DescribeMapRunCommandInput,
  type DescribeMapRunCommandOutput,
  DescribeStateMachineCommand,
  type DescribeStateMachineCommandInput,
  type DescribeStateMachineCommandOutput,
  DescribeStateMachineForExecutionCommand,
  type DescribeStateMachineForExecutionCommandInput,
  type DescribeStateMachineForExecutionCommandOutput,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type ListExecutionsCommandInput,
  type ListExecutionsCommandOutput,
  ListStateMachinesCommand,
  type ListStateMachinesCommandInput,
  type ListStateMachinesCommandOutput,
  type GetExecutionHistoryCommandInput,
  type GetExecutionHistoryCommandOutput,
  ListMapRunsCommand,
  type ListMapRunsCommandInput,
  type ListMapRunsCommandOutput,
  RedriveExecutionCommand,
  type RedriveExecutionCommandInput,
  type RedriveExecutionCommandOutput,
  type SFNClient,
  SendTaskFailureCommand,
  type SendTaskFailureCommandInput,
  type SendTaskFailureCommandOutput,
  SendTaskHeartbeatCommand,
  type SendTaskHeartbeatCommandInput,
  type SendTaskHeartbeatCommandOutput,
  SendTaskSuccessCommand,
  type SendTaskSuccessCommandInput,
  type SendTaskSuccessCommandOutput,
  StartExecutionCommand,
  type StartExecutionCommandInput,
  type StartExecutionCommandOutput,
  StartSyncExecutionCommand,
  type StartSyncExecutionCommandInput,
  type StartSyncExecutionCommandOutput,
  StopExecutionCommand,
  type StopExecutionCommandInput,
  type StopExecutionCommandOutput,
} from "@aws-sdk/client-sfn";
import type { MiddlewareStack } from "@smithy/types";

/** Per-call options: the cancel signal reaches the socket and the SDK's retry sleep. */
export interface CallOptions {
  readonly abortSignal?: AbortSignal | undefined;
  /**
   * Called when a signed request of the call is handed to the HTTP handler (each attempt),
   * unless the cancel came first: until then AWS cannot have received it (credentials still
   * being fetched, for example). Only the calls that start or redrive an execution take it.
   */
  readonly onSent?: (() => void) | undefined;
  /** Called with the error of each attempt that `onSent` announced and that failed. */
  readonly onAttemptFailed?: ((error: unknown) => void) | undefined;
}

type Operation<I, O> = (input: I, options?: CallOptions) => Promise<O>;

/** StartExecution's reply, with AWS's own time of the reply (its HTTP Date header). */
export type StartExecutionReply = StartExecutionCommandOutput & {
  /** Whole seconds (the header's precision); absent when the reply had no usable Date. */
  readonly serverDate?: Date;
};

export interface StepFunctions {
  startExecution: Operation<StartExecutionCommandInput, StartExecutionReply>;
  describeExecution: Operation<DescribeExecutionCommandInput, DescribeExecutionCommandOutput>;
  getExecutionHistory: Operation<GetExecutionHistoryCommandInput, GetExecutionHistoryCommandOutput>;
  listExecutions: Operation<ListExecutionsCommandInput, ListExecutionsCommandOutput>;
  stopExecution: Operation<StopExecutionCommandInput, StopExecutionCommandOutput>;
  redriveExecution: Operation<RedriveExecutionCommandInput, RedriveExecutionCommandOutput>;
  describeStateMachine: Operation<
    DescribeStateMachineCommandInput,
    DescribeStateMachineCommandOutput
  >;
  describeStateMachineForExecution: Operation<
    DescribeStateMachineForExecutionCommandInput,
    DescribeStateMachineForExecutionCommandOutput
  >;
  startSyncExecution: Operation<StartSyncExecutionCommandInput, StartSyncExecutionCommandOutput>;
  sendTaskSuccess: Operation<SendTaskSuccessCommandInput, SendTaskSuccessCommandOutput>;
  sendTaskFailure: Operation<SendTaskFailureCommandInput, SendTaskFailureCommandOutput>;
  sendTaskHeartbeat: Operation<SendTaskHeartbeatCommandInput, SendTaskHeartbeatCommandOutput>;
  listMapRuns: Operation<ListMapRunsCommandInput, ListMapRunsCommandOutput>;
  describeMapRun: Operation<DescribeMapRunCommandInput, DescribeMapRunCommandOutput>;
  listStateMachines: Operation<ListStateMachinesCommandInput, ListStateMachinesCommandOutput>;
}

function sendOptions(options: CallOptions | undefined): { abortSignal?: AbortSignal } {
  return options?.abortSignal ? { abortSignal: options.abortSignal } : {};
}

/**
 * A call that ends when the cancel signal fires, whatever it is waiting for. The SDK hands
 * the signal to the HTTP request and its retry sleeps only: a credential provider that does
 * not answer (a profile's credential_process waiting for input) would hold a cancelled task.
 */
export function untilCancelled<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return call;
  return new Promise<T>((resolve, reject) => {
    const cancelled = () => {
      const error = new Error("the call was cancelled before it ended");
      error.name = "AbortError";
      reject(error);
    };
    if (signal.aborted) cancelled();
    signal.addEventListener("abort", cancelled, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener("abort", cancelled));
  });
}

/**
 * Has `options.onSent` called as each attempt of the command goes to the HTTP handler, and
 * `options.onAttemptFailed` with the error of each such attempt that fails (the SDK retries
 * after it, and its final error tells of the last attempt only).
 */
function reportSent<I extends object, O extends object>(
  stack: MiddlewareStack<I, O>,
  options: CallOptions | undefined,
): void {
  const onSent = options?.onSent;
  if (!onSent) return;
  const onAttemptFailed = options?.onAttemptFailed;
  // The deserialize step comes after signing, right before the handler sends the request.
  stack.add(
    (next) => (args) => {
      if (options?.abortSignal?.aborted) return next(args);
      onSent();
      if (!onAttemptFailed) return next(args);
      return next(args).catch((error: unknown) => {
        onAttemptFailed(error);
        throw error;
      });
    },
    { step: "deserialize", name: "requestSent", priority: "low" },
  );
}

/** An error of the service (AWS's answer), as opposed to one of the network or the client. */
function isAnswered(error: unknown): error is object {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode ===
      "number"
  );
}

/** AWS's refusal of a StartExecution, with AWS's own time of it (its HTTP Date header). */
export function refusalDate(error: unknown): Date | undefined {
  const date = (error as { serverDate?: unknown } | null)?.serverDate;
  return date instanceof Date ? date : undefined;
}

/** The operations on one SFNClient (its retries, endpoint and credentials). */
export function stepFunctionsOn(client: SFNClient): StepFunctions {
  return {
    startExecution: async (input, o) => {
      const command = new StartExecutionCommand(input);
      let date: unknown;
      // Each attempt's raw response passes here, before it is read (so AWS's refusals too);
      // the last one answered.
      command.middlewareStack.add(
        (next) => async (args) => {
          date = undefined;
          const result = await next(args);
          date = (result.response as { headers?: Record<string, string> }).headers?.["date"];
          return result;
        },
        { step: "deserialize", name: "serverDateOfStartExecution", priority: "low" },
      );
      reportSent(command.middlewareStack, o);
      const serverDate = () => {
        const parsed = typeof date === "string" ? new Date(date) : undefined;
        return parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
      };
      let output: StartExecutionCommandOutput;
      try {
        output = await untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
      } catch (error) {
        // An error AWS answered carries the time of that answer, as a reply does.
        const when = serverDate();
        if (when && isAnswered(error)) Object.assign(error, { serverDate: when });
        throw error;
      }
      const when = serverDate();
      return when ? Object.assign(output, { serverDate: when }) : output;
    },
    describeExecution: (input, o) =>
      untilCancelled(
        client.send(new DescribeExecutionCommand(input), sendOptions(o)),
        o?.abortSignal,
      ),
    getExecutionHistory: (input, o) =>
      untilCancelled(
        client.send(new GetExecutionHistoryCommand(input), sendOptions(o)),
        o?.abortSignal,
      ),
    listExecutions: (input, o) =>
      untilCancelled(client.send(new ListExecutionsCommand(input), sendOptions(o)), o?.abortSignal),
    stopExecution: (input, o) => {
      const command = new StopExecutionCommand(input);
      reportSent(command.middlewareStack, o);
      return untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
    },
    redriveExecution: (input, o) => {
      const command = new RedriveExecutionCommand(input);
      reportSent(command.middlewareStack, o);
      return untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
    },
    describeStateMachine: (input, o) =>
      untilCancelled(
        client.send(new DescribeStateMachineCommand(input), sendOptions(o)),
        o?.abortSignal,
      ),
    describeStateMachineForExecution: (input, o) =>
      untilCancelled(
        client.send(new DescribeStateMachineForExecutionCommand(input), sendOptions(o)),
        o?.abortSignal,
      ),
    startSyncExecution: (input, o) => {
      const command = new StartSyncExecutionCommand(input);
      reportSent(command.middlewareStack, o);
      return untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
    },
    sendTaskSuccess: (input, o) => {
      const command = new SendTaskSuccessCommand(input);
      reportSent(command.middlewareStack, o);
      return untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
    },
    sendTaskFailure: (input, o) => {
      const command = new SendTaskFailureCommand(input);
      reportSent(command.middlewareStack, o);
      return untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
    },
    sendTaskHeartbeat: (input, o) => {
      const command = new SendTaskHeartbeatCommand(input);
      reportSent(command.middlewareStack, o);
      return untilCancelled(client.send(command, sendOptions(o)), o?.abortSignal);
    },
    listMapRuns: (input, o) =>
      untilCancelled(client.send(new ListMapRunsCommand(input), sendOptions(o)), o?.abortSignal),
    describeMapRun: (input, o) =>
      untilCancelled(client.send(new DescribeMapRunCommand(input), sendOptions(o)), o?.abortSignal),
    listStateMachines: (input, o) =>
      untilCancelled(
        client.send(new ListStateMachinesCommand(input), sendOptions(o)),
        o?.abortSignal,
      ),
  };
}
