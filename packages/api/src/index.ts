export { appRouter, type AppRouter } from './router/index';
export { createCallerFactory } from './trpc';
export { createInnerContext, type Actor, type Context } from './context';
export type { ApiConfig, Services } from './services';
export { createAuth, type Auth } from './auth';
export { AppError, type AppErrorCode } from './errors';
export { receiveStripeWebhook, type ReceiveResult } from './webhooks/receive';
export { seedDemo, DEMO_SIGN_INS } from './seed/demo';
export { ensurePrimaryWorkspace } from './workspaces/ensure-primary';
