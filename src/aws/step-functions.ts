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

/** Per-call options: the cancel signal reaches the socket and the SDK's retry sleep. */
export interface CallOptions {
  readonly abortSignal?: AbortSignal | undefined;
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

/** The operations on one SFNClient (its retries, endpoint and credentials). */
export function stepFunctionsOn(client: SFNClient): StepFunctions {
  return {
    startExecution: async (input, o) => {
      const command = new StartExecutionCommand(input);
      let date: unknown;
      // Each attempt's raw response passes here; the last one answered.
      command.middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          date = (result.response as { headers?: Record<string, string> }).headers?.["date"];
          return result;
        },
        { step: "deserialize", name: "serverDateOfStartExecution" },
      );
      const output = await client.send(command, sendOptions(o));
      const serverDate = typeof date === "string" ? new Date(date) : undefined;
      return serverDate && !Number.isNaN(serverDate.getTime())
        ? Object.assign(output, { serverDate })
        : output;
    },
    describeExecution: (input, o) =>
      client.send(new DescribeExecutionCommand(input), sendOptions(o)),
    getExecutionHistory: (input, o) =>
      client.send(new GetExecutionHistoryCommand(input), sendOptions(o)),
    listExecutions: (input, o) => client.send(new ListExecutionsCommand(input), sendOptions(o)),
    stopExecution: (input, o) => client.send(new StopExecutionCommand(input), sendOptions(o)),
    redriveExecution: (input, o) => client.send(new RedriveExecutionCommand(input), sendOptions(o)),
    describeStateMachine: (input, o) =>
      client.send(new DescribeStateMachineCommand(input), sendOptions(o)),
    describeStateMachineForExecution: (input, o) =>
      client.send(new DescribeStateMachineForExecutionCommand(input), sendOptions(o)),
    startSyncExecution: (input, o) =>
      client.send(new StartSyncExecutionCommand(input), sendOptions(o)),
    sendTaskSuccess: (input, o) => client.send(new SendTaskSuccessCommand(input), sendOptions(o)),
    sendTaskFailure: (input, o) => client.send(new SendTaskFailureCommand(input), sendOptions(o)),
    sendTaskHeartbeat: (input, o) =>
      client.send(new SendTaskHeartbeatCommand(input), sendOptions(o)),
    listMapRuns: (input, o) => client.send(new ListMapRunsCommand(input), sendOptions(o)),
    describeMapRun: (input, o) => client.send(new DescribeMapRunCommand(input), sendOptions(o)),
    listStateMachines: (input, o) =>
      client.send(new ListStateMachinesCommand(input), sendOptions(o)),
  };
}
