import assert from "node:assert/strict";
import { test } from "node:test";
import { consoleUrlFor } from "../../src/console-link.ts";

const cases: Array<[string, string, string | null]> = [
  [
    "aws",
    "arn:aws:states:eu-west-1:123456789012:execution:orders:run-1",
    "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:orders:run-1",
  ],
  [
    "aws-cn",
    "arn:aws-cn:states:cn-north-1:123456789012:execution:orders:run-1",
    "https://cn-north-1.console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/arn:aws-cn:states:cn-north-1:123456789012:execution:orders:run-1",
  ],
  [
    "aws-us-gov",
    "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:orders:run-1",
    "https://us-gov-west-1.console.amazonaws-us-gov.com/states/home?region=us-gov-west-1#/v2/executions/details/arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:orders:run-1",
  ],
  [
    "aws-eusc (the European Sovereign Cloud's one console host)",
    "arn:aws-eusc:states:eusc-de-east-1:123456789012:execution:orders:run-1",
    "https://console.amazonaws-eusc.eu/states/home?region=eusc-de-east-1#/v2/executions/details/arn:aws-eusc:states:eusc-de-east-1:123456789012:execution:orders:run-1",
  ],
  [
    "a partition without a public console",
    "arn:aws-iso:states:us-iso-east-1:123456789012:execution:o:r",
    null,
  ],
  [
    "a child execution of a Distributed Map (its Map Run's state machine is orders/Items)",
    "arn:aws:states:eu-west-1:123456789012:execution:orders/Items:0c9f5c5e-3c47-4b6f-9a3e-0d1b2c3d4e5f",
    "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:orders/Items:0c9f5c5e-3c47-4b6f-9a3e-0d1b2c3d4e5f",
  ],
  [
    "an Express child execution of a Distributed Map",
    "arn:aws:states:eu-west-1:123456789012:express:orders/Items:0c9f5c5e:9d8e7f6a",
    null,
  ],
  [
    "an Express execution",
    "arn:aws:states:us-east-1:123456789012:express:orders:run-1:0c9f5c5e-3c47-4b6f-9a3e-0d1b2c3d4e5f",
    null,
  ],
  ["not an execution ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:orders", null],
];

for (const [what, arn, expected] of cases) {
  test(`consoleUrlFor: ${what}`, () => {
    assert.equal(consoleUrlFor(arn), expected);
  });
}
