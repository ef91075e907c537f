/**
 * Entry point of the bundled program. Wires the stages together:
 * read fields -> validate -> resolve config -> run the action -> write outputs -> exit code.
 * Importable, so tests can call run() in-process as well as run the bundle.
 */
// First: queues cancel signals that arrive while the rest of the bundle loads.
import { CANCEL_SIGNALS, startedAs, takeEarlySignals } from "./early-signals.ts";
import { runAction } from "./actions/registry.ts";
import { userInfo } from "node:os";
import { readEnvironment, readFiles } from "./config/environment.ts";
import { decideHome } from "./config/home.ts";
import { resolveConfig } from "./config/resolve.ts";
import { CancelledError, ProductError, UnexpectedError, validationErrorFrom } from "./errors.ts";
import { debugLogNotice, nodeDebugProblem, thirdPartyDebugRequested } from "./debug-guard.ts";
import { EXIT, EXIT_MEANING, type ExitCode, STATUS_WORD } from "./exit-codes.ts";
import { type FieldSpec, INPUT_FIELDS } from "./fields/catalog.ts";
import { FILE_TWINS } from "./fields/names.ts";
import { flagOf, readFieldsWaiting } from "./fields/read.ts";
import type { FieldValues } from "./fields/template-types.ts";
import { filesNamedBy, validate, withDefaults } from "./fields/validate.ts";
import { createLogger, type Logger } from "./log.ts";
import {
  buildDocument,
  echoValues,
  type Outcome,
  pendingResult,
  writeDocument,
  writeDocumentElsewhere,
  writeDocumentNow,
  writeStandardOutput,
} from "./output/extension-output.ts";
import { createOutputFields, writeFailureReason } from "./output/output-fields.ts";
import {
  listChoices,
  listingProblems,
  PICKER_FIELD,
  type PickerChoice,
  takeListFlag,
} from "./pickers/list.ts";
import { mask, maskJson, OWN_SHAPE } from "./secrets.ts";
import { installIsoDate } from "./iso-date.ts";
import { settleWhenFollowing } from "./settle-memory.ts";
import { cancelOnStdin, cancelOnStdinProblem, listenForCancelLines } from "./stdin-cancel.ts";
import { VERSION } from "./version.ts";

export interface RunOptions {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /**
   * Fires when the task is cancelled (the entry point wires it to SIGTERM, SIGINT, SIGHUP,
   * SIGBREAK, and a line "cancel" on standard input with UE_CANCEL_ON_STDIN=1).
   */
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

/** One flag's lines of the help: what it sets, when it applies, its choices. */
function helpEntry(field: FieldSpec): string[] {
  const column = (left: string, right: string) => `  ${left.padEnd(44)} ${right}`;
  const value =
    field.type === "Boolean" ? "[true|false]" : field.type === "Integer" ? "N" : "VALUE";
  const lines = [
    column(
      `${flagOf(field)} ${value}`,
      `${field.label}${field.default ? ` (default ${field.default})` : ""}`,
    ),
  ];
  if (field.showIf) {
    const on = INPUT_FIELDS.find((f) => f.name === field.showIf?.field)?.label;
    lines.push(column("", `  only when ${on} is ${field.showIf.values.join(" or ")}`));
  }
  const twin = FILE_TWINS.find((t) => t.field === field);
  if (twin) {
    lines.push(
      column(
        `${twin.flag} PATH`,
        `${field.label} from a file (${twin.variable}; "${twin.name}" in a fields file)`,
      ),
    );
  }
  for (const choice of field.choices ?? []) lines.push(column("", `  ${choice}`));
  return lines;
}

/** The help text; built only when asked for. */
function help(): string {
  // Secrets are never flags: they would show in the process list.
  const fields = INPUT_FIELDS.filter((f) => f.type !== "Credential" && !f.secret);
  const codes = (Object.keys(EXIT_MEANING) as unknown as ExitCode[]).map(
    (code) =>
      `  ${String(code).padStart(3)}  ${STATUS_WORD[code].padEnd(25)} ${EXIT_MEANING[code]}`,
  );
  return [
    `ue-aws-stepfunctions ${VERSION}: start and supervise AWS Step Functions executions`,
    "",
    "usage: node ue-aws-stepfunctions.cjs [--fields-file FILE] [--<field> VALUE ...]",
    "       node ue-aws-stepfunctions.cjs --list state-machines|executions [fields as above]",
    "",
    "Field values come from UE_FIELDS_FILE (or --fields-file), else from UE_FIELD_<NAME>",
    "variables (a Credential as UE_FIELD_<NAME>_USER, _PASSWORD and _TOKEN); flags override",
    "both. A variable or flag that names no field, or a value for a field the chosen action",
    "does not use, is refused (exit 20). Secrets are never flags (a command line is visible",
    "to every user of the host): AWS credentials come from UE_FIELD_CREDENTIALS_USER /",
    "_PASSWORD, a fields file or the standard AWS credential chain; the Task Token from",
    "UE_FIELD_TASK_TOKEN or a fields file. The extension output document goes to",
    "UE_EXTENSION_OUTPUT_FILE, else to standard output; the log to standard error.",
    "",
    "--list prints what the State Machine and Execution pickers offer, as a JSON array of",
    "{ value (the ARN), label, choice, ... } on standard output, with the task's region,",
    "credentials, role and proxy: state-machines (every one in the region), executions (of",
    "--state-machine, those --action can use, newest first, at most 100). On failure the",
    "exit code is a task's and the extension output document says why.",
    "",
    "Flags:",
    ...fields.flatMap(helpEntry),
    `  ${"--fields-file FILE".padEnd(44)} JSON file of field values`,
    `  ${"--list state-machines|executions".padEnd(44)} list what a picker offers (see above)`,
    `  ${"-h, --help".padEnd(44)} print this help`,
    `  ${"--version".padEnd(44)} print the version`,
    "",
    "Exit codes:",
    ...codes,
    "",
  ].join("\n");
}

/**
 * Writes a "cancelled" document at once from what is known so far; set while run() is in
 * progress so a second signal can end the program without losing the outcome.
 */
let emergencyWrite: (() => number) | undefined;

/**
 * Exit 40: with the document on standard output when its file cannot be written; when
 * standard output itself cannot be, the log says so.
 */
async function documentNotWritten(
  outcome: Outcome,
  values: FieldValues,
  file: string | undefined,
  error: unknown,
  log: Logger,
): Promise<number> {
  const reason = writeFailureReason(error);
  log.error(
    file
      ? `cannot write the extension output to ${file} (${reason}); it goes to standard output, exit code ${EXIT.outputUnwritable}`
      : `cannot write the extension output to standard output (${reason}); the task's outcome: ${STATUS_WORD[outcome.exitCode]}: ${outcome.description}; exit code ${EXIT.outputUnwritable}`,
  );
  try {
    const code = file
      ? await writeDocumentElsewhere(outcome, values, file, reason)
      : EXIT.outputUnwritable;
    log.info(`exit code ${code}`);
    return code;
  } catch (again) {
    log.error(
      `cannot write the extension output to standard output either: ${mask(String(again))}`,
    );
    return EXIT.outputUnwritable;
  }
}

/** Run the program and resolve to its exit code. Never throws. */
export async function run(options: RunOptions): Promise<number> {
  const { argv, env } = options;
  if (argv.includes("--version")) {
    process.stdout.write(`ue-aws-stepfunctions ${VERSION}\n`);
    return 0;
  }
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(help());
    return 0;
  }
  const log = options.log ?? createLogger();
  const outputs = settleWhenFollowing(
    createOutputFields(env["UE_OUTPUT_FIELDS_FILE"], (m) => log.warn(m)),
  );
  let values: FieldValues = {};
  let outcome: Outcome;
  /** Set with --list: what a picker offers, printed once the outcome is known. */
  let list: ReturnType<typeof takeListFlag>["list"];
  let choices: PickerChoice[] | undefined;
  emergencyWrite = () => {
    const arn = outputs.current.execution_arn;
    // Monitor, Stop and Redrive know their target's ARN before they have read its status.
    const status = outputs.current.execution_status;
    const early: Outcome = {
      exitCode: EXIT.cancelled,
      description:
        arn && status
          ? `cancelled again before the cancel finished; execution ${arn} was ${status} and may still be running`
          : arn
            ? `cancelled again before the cancel finished; execution ${arn} was not read`
            : "cancelled before an execution was started",
      changed: !!arn && !!status,
      result:
        arn && status
          ? pendingResult(arn, { status, name: outputs.current.generated_execution_name ?? null })
          : null,
    };
    return writeDocumentNow(buildDocument(early, values), env["UE_EXTENSION_OUTPUT_FILE"]);
  };
  try {
    const debugProblem = nodeDebugProblem(env);
    const stdinProblem = cancelOnStdinProblem(env);
    const debugLog = debugLogNotice(env);
    if (debugLog) log.warn(debugLog);
    if (thirdPartyDebugRequested(env)) {
      log.warn(
        "DEBUG is set: the proxy agents' debug output, which shows credentials, stays off; UE_DEBUG=true gives this program's own debug log",
      );
    }
    const request = takeListFlag(argv);
    list = request.list;
    const read = await readFieldsWaiting(env, request.argv, options.signal);
    if ("waitingFor" in read) {
      for (const warning of read.warnings) log.warn(warning);
      throw new CancelledError(
        `cancelled while waiting for ${read.waitingFor}, a pipe no program has finished writing to yet; nothing was sent to AWS`,
      );
    }
    const raw = read;
    values = echoValues(withDefaults(raw.values), raw.refused);
    log.info(`ue-aws-stepfunctions ${VERSION}; fields from ${raw.source}`);
    for (const warning of raw.warnings) log.warn(warning);
    for (const spec of INPUT_FIELDS) {
      const value = raw.values[spec.name];
      if (spec.type === "Credential" && !spec.usesToken && typeof value === "object") {
        if (!Array.isArray(value) && value.token) {
          log.warn(
            `${spec.label}: the token part is ignored; it is not used for proxy authentication`,
          );
        }
      }
    }
    // Before anything reads ~/.aws: the shared files here, the SDK's own loaders later.
    if (process.platform !== "win32") {
      const uid = typeof process.getuid === "function" ? process.getuid() : null;
      const home = decideHome(env["HOME"], () => userInfo().homedir, uid);
      if (home.home !== undefined) env["HOME"] = home.home;
      if (home.notice) log[home.notice.level](home.notice.text);
    }
    const environment = await readEnvironment(env);
    const task = validate(
      raw.values,
      [
        ...(debugProblem ? [debugProblem] : []),
        ...(stdinProblem ? [stdinProblem] : []),
        ...environment.problems,
        ...request.problems,
        ...raw.problems,
      ],
      {
        environmentRegion: environment.settings.region !== undefined,
        files: readFiles(filesNamedBy(raw.values)),
        listing: request.requested,
      },
    );
    values = task.fields;
    if (list) {
      const problems = listingProblems(list, task, environment.settings.region !== undefined);
      if (problems.length > 0) throw validationErrorFrom(problems);
    }
    const config = resolveConfig(task, environment.settings);
    if (list) {
      choices = await listChoices(list, config, log, options.signal);
      const noun = list === "state-machines" ? "state machine" : "execution";
      const what = `${noun}${choices.length === 1 ? "" : "s"}`;
      outcome = {
        exitCode: EXIT.success,
        description: `listed ${choices.length} ${what} in ${config.aws.region} for ${PICKER_FIELD[list]}`,
        changed: false,
        result: null,
      };
      log.info(outcome.description);
    } else {
      outcome = await runAction({ config, log, outputs, signal: options.signal });
    }
  } catch (error) {
    if (list && options.signal?.aborted && !(error instanceof CancelledError)) {
      // The listing's calls end at the cancel (an AbortError): nothing was listed, and a
      // listing changes nothing, so the cancel is all there is to say.
      const description = `cancelled while listing for ${PICKER_FIELD[list]}; nothing was listed`;
      log.warn(description);
      outcome = { exitCode: EXIT.cancelled, description, changed: false, result: null };
    } else {
      const known =
        error instanceof ProductError
          ? error
          : new UnexpectedError(String(error), { cause: error });
      log.error(known.message);
      if (!(error instanceof ProductError) && error instanceof Error && error.stack) {
        log.debug(error.stack);
      }
      outcome = {
        exitCode: known.exitCode,
        description: known.message,
        changed: false,
        result: null,
      };
    }
  }
  emergencyWrite = undefined;
  // The real outcome stands when only the output-only fields could not be written.
  if (outputs.failure)
    outcome = { ...outcome, description: `${outcome.description}; ${outputs.failure}` };
  const documentFile = env["UE_EXTENSION_OUTPUT_FILE"];
  if (choices && outcome.exitCode === EXIT.success) {
    // Standard output holds the list alone; the document goes to its file, when named.
    try {
      await writeStandardOutput(`${maskJson(choices, 2, OWN_SHAPE)}\n`);
    } catch (error) {
      const reason = writeFailureReason(error);
      outcome = {
        ...outcome,
        exitCode: EXIT.outputUnwritable,
        description: `cannot write the list to standard output (${reason}); ${outcome.description}`,
      };
      log.error(outcome.description);
    }
    if (!documentFile) {
      log.info(`exit code ${outcome.exitCode}`);
      return outcome.exitCode;
    }
  }
  try {
    const code = await writeDocument(buildDocument(outcome, values), documentFile);
    log.info(`exit code ${code}`);
    return code;
  } catch (error) {
    return documentNotWritten(outcome, values, documentFile, error, log);
  }
}

if (startedAs(import.meta.url)) {
  // The same dates without V8 setting up ICU's time zone (see iso-date.ts).
  installIsoDate();
  // The SDK's notice about future Node versions is not the operator's business.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  // A scheduler's log reader can end before the program (a closed pipe, a full disk): the
  // log is then lost, but an unhandled write error must not end the program with exit 1,
  // no document and its execution left unsupervised.
  process.stderr.on("error", () => {});
  // Standard output's are reported by the writes themselves (exit 40).
  process.stdout.on("error", () => {});
  const controller = new AbortController();
  const log = createLogger();
  /** The exit code once the document is written: from then on nothing may change it. */
  let finalCode: number | undefined;
  const leave = (code: number) => {
    process.exitCode = code;
    // Leave as soon as the log is flushed, with the document's code: waiting for the
    // event loop to drain would leave a window in which a late signal ends the process
    // with status 143 while the document says otherwise.
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
  };
  // A cancel comes as a signal or, with UE_CANCEL_ON_STDIN=1, as a line "cancel" on standard
  // input. The bridge sends both for one cancel (either may fail to arrive), so the n-th of
  // either kind is the n-th cancel: a second one ends the program at once.
  const received = { signal: 0, line: 0 };
  const onCancel = (what: string, kind: keyof typeof received) => {
    if (finalCode !== undefined) {
      leave(finalCode);
      return;
    }
    const before = Math.max(received.signal, received.line);
    received[kind]++;
    const count = Math.max(received.signal, received.line);
    if (count === before) {
      log.info(`received ${what} as well: the cancel is under way`);
    } else if (count === 1) {
      log.warn(`received ${what}: cancelling`);
      controller.abort(what);
    } else {
      log.warn(`received ${what} again: ending now`);
      // The first cancel is still at work; write what is known and leave at once.
      let code: number = EXIT.cancelled;
      try {
        code = emergencyWrite?.() ?? EXIT.cancelled;
      } catch (error) {
        log.error(`cannot write the extension output: ${mask(String(error))}`);
      }
      process.exit(code);
    }
  };
  const onSignal = (name: NodeJS.Signals) => onCancel(name, "signal");
  for (const name of CANCEL_SIGNALS) process.on(name, onSignal);
  // Signals that came while the bundle loaded count as one cancel: nothing has started.
  const early = takeEarlySignals();
  if (early[0]) onSignal(early[0]);
  // A line written before this point waits in the input: none is lost.
  if (cancelOnStdin(process.env)) {
    try {
      listenForCancelLines(process.stdin, () => onCancel('"cancel" on standard input', "line"));
    } catch (error) {
      log.warn(`cannot read standard input for a cancel: ${mask(String(error))}`);
    }
  }
  run({ argv: process.argv.slice(2), env: process.env, signal: controller.signal, log }).then(
    (code) => {
      finalCode = code;
      leave(code);
    },
    (error: unknown) => {
      process.stderr.write(`ue-aws-stepfunctions: unexpected error: ${mask(String(error))}\n`);
      finalCode = EXIT.unexpected;
      leave(EXIT.unexpected);
    },
  );
}
