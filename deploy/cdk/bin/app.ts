import { App } from 'aws-cdk-lib';
import { OrderWorkflowStack } from '../lib/order-workflow-stack.ts';

// DURABLE_CDK_SKIP_BUNDLING=1 synthesizes the same stack without running `cargo lambda build` (the
// code asset is then a placeholder): for checking the template, never for deploying.
const skipBundling = process.env.DURABLE_CDK_SKIP_BUNDLING === '1';
const app = new App(skipBundling ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {});

new OrderWorkflowStack(app, 'OrderWorkflow', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
