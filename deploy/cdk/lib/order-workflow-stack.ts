import * as path from 'node:path';
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import type { Construct } from 'constructs';

/** The AWS managed policy for the role of a durable function: CloudWatch Logs, checkpoints, state. */
export const DURABLE_EXECUTION_POLICY = 'service-role/AWSLambdaBasicDurableExecutionRolePolicy';

/** The calls that answer a callback (`ctx.wait_for_callback`, `ctx.create_callback`). */
export const CALLBACK_ACTIONS = [
  'lambda:SendDurableExecutionCallbackSuccess',
  'lambda:SendDurableExecutionCallbackFailure',
  'lambda:SendDurableExecutionCallbackHeartbeat',
];

export interface OrderWorkflowStackProps extends StackProps {
  /** The function name. @default 'order-workflow' */
  readonly functionName?: string;
  /** `Cargo.toml` of the package with the `order-workflow` binary. @default this repository's examples/Cargo.toml */
  readonly manifestPath?: string;
  /** Longest time one execution may run, across all its invocations. @default 1 hour */
  readonly executionTimeout?: Duration;
  /** How long the history of a finished execution is kept (whole days, 1 to 90). @default 14 days */
  readonly retentionPeriod?: Duration;
  /** The alias that follows the version published by each deploy. @default 'live' */
  readonly aliasName?: string;
  /**
   * Qualified ARNs of the functions the workflow calls with `ctx.invoke` (chained invokes): the role
   * may invoke them. The order workflow calls none. @default none
   */
  readonly chainedInvokeTargets?: string[];
}

/**
 * The order workflow (`examples/src/bin/order-workflow.rs`) as a durable function: Rust on the
 * OS-only runtime `provided.al2023`, arm64, built by `cargo lambda build`, with a version published
 * on every change and an alias that follows it.
 */
export class OrderWorkflowStack extends Stack {
  /** The function (unqualified: use `alias` or `version` to invoke it). */
  public readonly function: lambda.Function;
  /** The version this deploy published. */
  public readonly version: lambda.IVersion;
  /** The alias pointing at `version`: the qualified name to invoke. */
  public readonly alias: lambda.Alias;
  /** A policy for whoever answers the approval callback (attach it to their role or user). */
  public readonly approverPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: OrderWorkflowStackProps = {}) {
    super(scope, id, props);

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the order-workflow durable function',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(DURABLE_EXECUTION_POLICY)],
    });

    const functionName = props.functionName ?? 'order-workflow';
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.function = new RustFunction(this, 'OrderWorkflow', {
      functionName,
      description: 'Durable order workflow (durable-runtime example)',
      manifestPath: props.manifestPath ?? path.join(__dirname, '..', '..', '..', 'examples', 'Cargo.toml'),
      binaryName: 'order-workflow',
      runtime: 'provided.al2023',
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // The limit of ONE invocation; the execution as a whole is bounded by durableConfig.
      timeout: Duration.seconds(60),
      role,
      logGroup,
      environment: { RUST_LOG: 'info' },
      // Durable execution can only be turned on when the function is created.
      durableConfig: {
        executionTimeout: props.executionTimeout ?? Duration.hours(1),
        retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      },
    });

    Annotations.of(this.function).acknowledgeInfo(
      'aws-lambda:Function.DurableConfig',
      'this stack creates the function durable; it never turns durability on for an existing function',
    );

    const targets = props.chainedInvokeTargets ?? [];
    if (targets.length > 0) {
      role.addToPolicy(
        new iam.PolicyStatement({ sid: 'ChainedInvokes', actions: ['lambda:InvokeFunction'], resources: targets }),
      );
    }

    // A new version whenever the code or the configuration changes; executions stay on the version
    // they started with.
    this.version = this.function.currentVersion;
    this.alias = new lambda.Alias(this, 'Alias', { aliasName: props.aliasName ?? 'live', version: this.version });

    // Executions are sub-resources of a version (`…:function:NAME:VERSION/durable-execution/…`), so the
    // callback calls are allowed on `NAME:*`, never on the unqualified ARN.
    this.approverPolicy = new iam.ManagedPolicy(this, 'ApproverPolicy', {
      description: 'Answer the approval callbacks of the order workflow and read its executions',
      statements: [
        new iam.PolicyStatement({
          sid: 'AnswerCallbacks',
          actions: CALLBACK_ACTIONS,
          resources: [`${this.function.functionArn}:*`],
        }),
        new iam.PolicyStatement({
          sid: 'ReadExecutions',
          actions: ['lambda:GetDurableExecution', 'lambda:GetDurableExecutionHistory'],
          resources: [`${this.function.functionArn}:*`],
        }),
        new iam.PolicyStatement({
          sid: 'ListExecutions',
          actions: ['lambda:ListDurableExecutionsByFunction'],
          resources: [this.function.functionArn, `${this.function.functionArn}:*`],
        }),
      ],
    });

    new CfnOutput(this, 'FunctionName', { value: this.function.functionName });
    new CfnOutput(this, 'AliasArn', {
      value: this.alias.functionArn,
      description: 'The qualified ARN to invoke (the alias)',
    });
    new CfnOutput(this, 'VersionArn', {
      value: this.version.functionArn,
      description: 'The qualified ARN of the version this deploy published',
    });
    new CfnOutput(this, 'ApproverPolicyArn', { value: this.approverPolicy.managedPolicyArn });
    new CfnOutput(this, 'LogGroupName', { value: logGroup.logGroupName });
  }
}
