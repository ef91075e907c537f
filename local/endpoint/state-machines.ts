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

/** A state machine as a (possibly version- or alias-qualified) ARN names it. */
export interface ResolvedStateMachine {
  machine: StateMachineRecord;
  /** Set when a version or an alias was named. */
  versionArn?: string;
  /** Set when an alias was named. */
  aliasArn?: string;
}

export class StateMachineRegistry {
  readonly #byArn = new Map<string, StateMachineRecord>();
  /** Published version numbers by state machine ARN. */
  readonly #versions = new Map<string, number[]>();
  /** Alias ARN to the version ARN it routes to. */
  readonly #aliases = new Map<string, string>();
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
    return this.resolve(arn).machine;
  }

  /**
   * The machine an ARN names: unqualified, `:<version>` (published) or `:<alias>`. The
   * definition does not change here, so a version runs the machine's definition.
   */
  resolve(arn: string): ResolvedStateMachine {
    const record = this.#byArn.get(arn);
    if (record) return { machine: record };
    const cut = arn.lastIndexOf(":");
    const base = this.#byArn.get(arn.slice(0, cut));
    const qualifier = arn.slice(cut + 1);
    if (!base) throw errors.stateMachineDoesNotExist(arn);
    if (/^\d+$/.test(qualifier)) {
      if (!this.#versions.get(base.arn)?.includes(Number(qualifier))) {
        throw errors.stateMachineDoesNotExist(arn);
      }
      return { machine: base, versionArn: arn };
    }
    const versionArn = this.#aliases.get(arn);
    if (!versionArn) throw errors.stateMachineDoesNotExist(arn);
    return { machine: base, versionArn, aliasArn: arn };
  }

  /** PublishStateMachineVersion: the next version number's ARN. */
  publishVersion(arn: string): string {
    const machine = this.#byArn.get(arn);
    if (!machine) throw errors.stateMachineDoesNotExist(arn);
    const versions = this.#versions.get(arn) ?? [];
    const next = (versions.at(-1) ?? 0) + 1;
    versions.push(next);
    this.#versions.set(arn, versions);
    return `${arn}:${next}`;
  }

  /** CreateStateMachineAlias with one route (weight 100) to a published version. */
  createAlias(name: string, versionArn: string): string {
    validateName(name, "name");
    if (/^\d+$/.test(name)) {
      throw errors.validation(`Invalid alias name: '${name}' (an alias name is not a number)`);
    }
    const { machine, aliasArn } = this.resolve(versionArn);
    if (aliasArn || versionArn === machine.arn) throw errors.invalidArn(versionArn);
    const arn = `${machine.arn}:${name}`;
    this.#aliases.set(arn, versionArn);
    return arn;
  }

  delete(arn: string): boolean {
    return this.#byArn.delete(arn);
  }

  list(): StateMachineRecord[] {
    return [...this.#byArn.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
