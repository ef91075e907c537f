/** State machines known to the endpoint. */
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { errors } from "./errors.ts";
import { validateName, validateRoleArn } from "./validation.ts";

export type StateMachineType = "STANDARD" | "EXPRESS";

export interface StateMachineRecord {
  arn: string;
  name: string;
  type: StateMachineType;
  /** The definition text exactly as given, returned by DescribeStateMachine. */
  definition: string;
  parsed: StateMachineDefinition;
  roleArn: string;
  creationDate: Date;
}

export interface CreateStateMachineInput {
  name: string;
  definition: string | object;
  type?: StateMachineType;
  roleArn?: string;
}

/** Parses and validates an ASL definition; throws InvalidDefinition as the service does. */
export function parseDefinition(text: string): StateMachineDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw errors.invalidDefinition(`INVALID_JSON_DESCRIPTION: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw errors.invalidDefinition(
      "SCHEMA_VALIDATION_FAILED: The definition must be a JSON object",
    );
  }
  try {
    // Resource ARNs are not checked: local task handlers serve any resource string.
    new StateMachine(parsed as StateMachineDefinition, {
      validationOptions: { checkArn: false, checkPaths: true },
    });
  } catch (e) {
    const why = (e as Error).message.replace(
      /^State machine definition is invalid, see error\(s\) below:\s*/,
      "",
    );
    throw errors.invalidDefinition(`SCHEMA_VALIDATION_FAILED: ${why.trim()}`);
  }
  return parsed as StateMachineDefinition;
}

export class StateMachineRegistry {
  readonly #byArn = new Map<string, StateMachineRecord>();
  readonly #region: string;
  readonly #accountId: string;

  constructor(region: string, accountId: string) {
    this.#region = region;
    this.#accountId = accountId;
  }

  get defaultRoleArn(): string {
    return `arn:aws:iam::${this.#accountId}:role/LocalStepFunctionsRole`;
  }

  arnFor(name: string): string {
    return `arn:aws:states:${this.#region}:${this.#accountId}:stateMachine:${name}`;
  }

  /**
   * Creates a machine. Repeating a creation with the same definition, type and role returns the
   * existing machine (CreateStateMachine is idempotent); anything else is StateMachineAlreadyExists.
   */
  create(input: CreateStateMachineInput): StateMachineRecord {
    const name = validateName(input.name, "name");
    const definition =
      typeof input.definition === "string"
        ? input.definition
        : JSON.stringify(input.definition, null, 2);
    const type = input.type ?? "STANDARD";
    if (type !== "STANDARD" && type !== "EXPRESS") {
      throw errors.validation(
        `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [EXPRESS, STANDARD]`,
      );
    }
    const roleArn = input.roleArn ?? this.defaultRoleArn;
    validateRoleArn(roleArn);
    const parsed = parseDefinition(definition);
    const arn = this.arnFor(name);
    const existing = this.#byArn.get(arn);
    if (existing) {
      if (
        existing.definition === definition &&
        existing.type === type &&
        existing.roleArn === roleArn
      ) {
        return existing;
      }
      throw errors.stateMachineAlreadyExists(arn);
    }
    const record: StateMachineRecord = {
      arn,
      name,
      type,
      definition,
      parsed,
      roleArn,
      creationDate: new Date(),
    };
    this.#byArn.set(arn, record);
    return record;
  }

  get(arn: string): StateMachineRecord | undefined {
    return this.#byArn.get(arn);
  }

  require(arn: string): StateMachineRecord {
    const record = this.#byArn.get(arn);
    if (!record) throw errors.stateMachineDoesNotExist(arn);
    return record;
  }

  delete(arn: string): boolean {
    return this.#byArn.delete(arn);
  }

  list(): StateMachineRecord[] {
    return [...this.#byArn.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
