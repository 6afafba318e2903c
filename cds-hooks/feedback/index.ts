export type {
  FeedbackRecord,
  FeedbackStore,
  FeedbackStoreOptions,
  ListFilter,
  OverrideReasonRecord,
  SaveResult,
  ScanFilter,
} from './store.ts';
export {
  DEFAULT_DATA_DIR,
  dataDirPath,
  dedupeKey,
  FeedbackStoreError,
  normaliseRecord,
  openFeedbackStore,
} from './store.ts';
