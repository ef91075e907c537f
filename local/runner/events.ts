/** What the runner reports while it works: the operator's view of tasks and workflows. */

/** Final task instance states, named as the controller names them. */
export type TaskState = "Success" | "Failed" | "Cancelled" | "Start Failure";

export interface TaskIdentity {
  readonly name: string;
  readonly instanceId: string;
  /** The same task instance run again; the agent hands the extension nothing that says so. */
  readonly rerun: boolean;
}

/** The extension API call an output-only field update came through. */
export type OutputFieldsCall = "ui.update_output_fields" | "update_extension_status";

export interface TaskResult extends TaskIdentity {
  readonly state: TaskState;
  /** The ExtensionResult's rc (the program's exit code); null when there was no result. */
  readonly exitCode: number | null;
  /** The ExtensionResult's message (the status description), or null. */
  readonly message: string | null;
  readonly signal: string | null;
  /** Why the task was cancelled ("timeout after 120 s", "operator"), or null. */
  readonly cancelReason: string | null;
  /** Output-only field values after the run (later updates win). */
  readonly outputFields: Readonly<Record<string, unknown>>;
  /** The extension output document (unv_output parsed), or null when none or not JSON. */
  readonly extensionOutput: unknown;
  /** Why the task could not start, or what was wrong with its outputs. */
  readonly problems: readonly string[];
  readonly startedAt: string;
  readonly finishedAt: string;
}

export type WorkflowState = "Success" | "Failed" | "Cancelled";

export interface WorkflowResult {
  readonly name: string;
  readonly instanceId: string;
  readonly state: WorkflowState;
  /** Each task by name: its last result, or why it was skipped. */
  readonly tasks: ReadonlyArray<
    { name: string; ran: true; result: TaskResult } | { name: string; ran: false; reason: string }
  >;
}

export type RunnerEvent =
  | { type: "workflow-started"; workflow: string; instanceId: string; tasks: readonly string[] }
  | {
      type: "task-started";
      task: TaskIdentity;
      pid: number;
      /** Field values sent, credentials masked. */
      fields: Readonly<Record<string, unknown>>;
      /** Fields whose value was not sent because the form hides them. */
      dropped: readonly string[];
      /** Output-only values cleared for this run (not preserveOutputOnRerun). */
      cleared: readonly string[];
    }
  | {
      type: "output-field";
      task: TaskIdentity;
      name: string;
      value: unknown;
      call: OutputFieldsCall;
    }
  | { type: "log"; task: TaskIdentity; stream: "stdout" | "stderr"; line: string }
  | {
      type: "cancel-requested";
      task: TaskIdentity;
      reason: string;
      how: "extension_cancel" | "SIGKILL";
    }
  | { type: "warning"; task?: TaskIdentity; message: string }
  | { type: "task-finished"; result: TaskResult }
  | { type: "task-skipped"; workflow: string; task: string; reason: string }
  | { type: "workflow-finished"; result: WorkflowResult };

export type EventListener = (event: RunnerEvent) => void;
