/**
 * Execution history in the shape of GetExecutionHistory: events with the real type names,
 * ids, previousEventId and the details member each type uses.
 */

export interface HistoryEvent {
  timestamp: Date;
  type: string;
  id: number;
  previousEventId: number;
  details?: Record<string, unknown>;
}

/** The details member of an event type, e.g. `TaskStateEntered` -> `stateEnteredEventDetails`. */
export function detailsMember(type: string): string {
  if (type.endsWith("StateEntered")) return "stateEnteredEventDetails";
  if (type.endsWith("StateExited")) return "stateExitedEventDetails";
  return `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
}

/** Keys that carry execution data, dropped when the caller asks for `includeExecutionData: false`. */
const DATA_KEYS = new Set(["input", "output", "parameters"]);

/** Execution data that a customer managed key also covers: errors and causes. */
const ENCRYPTED_KEYS = new Set(["error", "cause"]);

export function serializeEvent(
  e: HistoryEvent,
  includeData = true,
  withoutEncrypted = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    timestamp: e.timestamp.getTime() / 1000,
    type: e.type,
    id: e.id,
    previousEventId: e.previousEventId,
  };
  if (e.details) {
    const details = includeData
      ? e.details
      : Object.fromEntries(
          Object.entries(e.details).filter(
            ([k]) => !DATA_KEYS.has(k) && !(withoutEncrypted && ENCRYPTED_KEYS.has(k)),
          ),
        );
    out[detailsMember(e.type)] = details;
  }
  return out;
}

export class History {
  readonly events: HistoryEvent[] = [];

  append(
    type: string,
    details?: Record<string, unknown>,
    timestamp: Date = new Date(),
  ): HistoryEvent {
    const id = this.events.length + 1;
    const event: HistoryEvent = { timestamp, type, id, previousEventId: id - 1 };
    if (details) {
      // Undefined members are left out, as the service omits absent fields.
      event.details = Object.fromEntries(
        Object.entries(details).filter(([, v]) => v !== undefined),
      );
    }
    this.events.push(event);
    return event;
  }
}
