export { TrackingService } from './tracking-service';
export type { CommandTrackingInsert } from './tracking-service';
