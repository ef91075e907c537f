/**
 * Customer managed KMS keys on state machines, as far as a caller's permissions show them:
 * a state machine encrypted with a key whose policy refuses some callers kms:Decrypt. Those
 * callers can start executions (the service encrypts with a data key) but cannot read
 * execution data: DescribeExecution answers KmsAccessDeniedException unless
 * `includedData: METADATA_ONLY`; GetExecutionHistory unless `includeExecutionData: false`;
 * StopExecution and SendTaskFailure with an error or a cause, and SendTaskSuccess (its
 * output), are refused too: that data would be encrypted with the key.
 */
import { ServiceError } from "./errors.ts";

export interface EncryptionConfig {
  /** The key's ARN or id, as EncryptionConfiguration.kmsKeyId. */
  kmsKeyId: string;
  /** Access key ids whose kms:Decrypt (and GenerateDataKey for StopExecution data) is refused. */
  refuseDecryptTo?: string[];
  /** A key not in the Enabled state: every data read answers KmsInvalidStateException. */
  keyState?: "DISABLED" | "PENDING_DELETION" | "UNAVAILABLE";
  /** The next this many uses of the key by anyone answer KmsThrottlingException. */
  throttleNext?: number;
}

export class Kms {
  readonly #byMachine = new Map<string, EncryptionConfig>();

  encrypt(stateMachineArn: string, config: EncryptionConfig): void {
    this.#byMachine.set(stateMachineArn, { ...config });
  }

  configOf(stateMachineArn: string): EncryptionConfig | undefined {
    return this.#byMachine.get(stateMachineArn);
  }

  /** Throws what AWS answers when this caller may not read or write this machine's data. */
  checkData(stateMachineArn: string, caller: string | undefined): void {
    const config = this.#byMachine.get(stateMachineArn);
    if (!config) return;
    if (config.throttleNext !== undefined && config.throttleNext > 0) {
      config.throttleNext--;
      throw new ServiceError(
        "KmsThrottlingException",
        `KMS throttled the request for key '${config.kmsKeyId}': Rate exceeded`,
      );
    }
    if (config.keyState) {
      throw new ServiceError(
        "KmsInvalidStateException",
        `KMS key '${config.kmsKeyId}' is in state ${config.keyState} and cannot be used`,
      );
    }
    if (caller !== undefined && config.refuseDecryptTo?.includes(caller)) {
      throw new ServiceError(
        "KmsAccessDeniedException",
        `The caller does not have kms:Decrypt permission on KMS key '${config.kmsKeyId}' (access key ${caller})`,
      );
    }
  }
}
