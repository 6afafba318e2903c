export * from './evaluate.ts';
export * from './model.ts';
export { describeResult } from './rules/biomarker-status.ts';
export { type AvoidGroup, displayName, groupAvoided } from './rules/therapy-options.ts';
