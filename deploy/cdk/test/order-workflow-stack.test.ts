// Assertions on the synthesized template of the real stack (bundling skipped: the code asset is a
// placeholder, everything else is what `cdk deploy` deploys).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CALLBACK_ACTIONS, OrderWorkflowStack, type OrderWorkflowStackProps } from '../lib/order-workflow-stack.ts';

// The feature flags of cdk.json, as `cdk synth` and `cdk deploy` apply them.
const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));

function template(props: OrderWorkflowStackProps = {}): Template {
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new OrderWorkflowStack(app, 'Test', {
    env: { account: '123456789012', region: 'eu-west-1' },
    ...props,
  });
  return Template.fromStack(stack);
}

function logicalId(t: Template, type: string): string {
  const found = Object.keys(t.findResources(type));
  assert.equal(found.length, 1, `exactly one ${type}, got ${found.join(', ')}`);
  return found[0];
}

test('the function is a durable Rust function on provided.al2023, arm64', () => {
  const t = template();
  t.resourceCountIs('AWS::Lambda::Function', 1);
  t.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Handler: 'bootstrap',
    Architectures: ['arm64'],
    Timeout: 60,
    DurableConfig: { ExecutionTimeout: 3600, RetentionPeriodInDays: 14 },
  });
});

test('the durable config follows the props', () => {
  const t = template({ executionTimeout: Duration.days(2), retentionPeriod: Duration.days(30) });
  t.hasResourceProperties('AWS::Lambda::Function', {
    DurableConfig: { ExecutionTimeout: 172800, RetentionPeriodInDays: 30 },
  });
});

test('the role has the managed durable-execution policy and is the function role', () => {
  const t = template();
  const role = logicalId(t, 'AWS::IAM::Role');
  t.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: Match.objectLike({
      Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
    }),
    ManagedPolicyArns: Match.arrayWith([
      {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy']],
      },
    ]),
  });
  t.hasResourceProperties('AWS::Lambda::Function', { Role: { 'Fn::GetAtt': [role, 'Arn'] } });
});

test('an alias points at a published version, and the outputs give qualified ARNs', () => {
  const t = template();
  const fn = logicalId(t, 'AWS::Lambda::Function');
  const version = logicalId(t, 'AWS::Lambda::Version');
  const alias = logicalId(t, 'AWS::Lambda::Alias');
  t.hasResourceProperties('AWS::Lambda::Version', { FunctionName: { Ref: fn } });
  t.hasResourceProperties('AWS::Lambda::Alias', {
    Name: 'live',
    FunctionName: { Ref: fn },
    FunctionVersion: { 'Fn::GetAtt': [version, 'Version'] },
  });
  // `Ref` of an alias or a version is its qualified ARN.
  t.hasOutput('AliasArn', { Value: { Ref: alias } });
  t.hasOutput('VersionArn', { Value: { Ref: version } });
});

test('the approver may answer callbacks on the executions of every version, not the bare function', () => {
  const t = template();
  const fn = logicalId(t, 'AWS::Lambda::Function');
  t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Sid: 'AnswerCallbacks',
          Action: Match.arrayEquals([...CALLBACK_ACTIONS].sort()),
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn, 'Arn'] }, ':*']] },
        }),
      ]),
    },
  });
});

test('the role may invoke chained-invoke targets only when there are some', () => {
  template().resourceCountIs('AWS::IAM::Policy', 0);
  const target = 'arn:aws:lambda:eu-west-1:123456789012:function:payments:live';
  const t = template({ chainedInvokeTargets: [target] });
  t.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: [Match.objectLike({ Sid: 'ChainedInvokes', Action: 'lambda:InvokeFunction', Resource: target })],
    },
    Roles: [{ Ref: logicalId(t, 'AWS::IAM::Role') }],
  });
});
