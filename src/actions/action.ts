/**
 * What an action is: a module that receives the resolved configuration and the run's AWS
 * clients, and returns its outcome. The registry and every action module depend on this.
 */
import type { AwsSession } from "../aws/clients.ts";
import type { RunConfig } from "../config/resolve.ts";
import type { Logger } from "../log.ts";
import type { Outcome } from "../output/extension-output.ts";
import type { OutputFields } from "../output/output-fields.ts";

export interface ActionContext {
  readonly config: RunConfig;
  readonly aws: AwsSession;
  readonly log: Logger;
  readonly outputs: OutputFields;
  /** Fires when the task is cancelled. */
  readonly signal?: AbortSignal | undefined;
}

export interface Action {
  run(ctx: ActionContext): Promise<Outcome>;
}
