export * from './evaluate.ts';
export * from './model.ts';
export { describeResult } from './rules/biomarker-status.ts';
export { displayName } from './rules/therapy-options.ts';
