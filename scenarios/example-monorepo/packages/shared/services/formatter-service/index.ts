export { FormatterService, formatterService } from './formatter-service';
export type { FormatOptions } from './formatter-service';
