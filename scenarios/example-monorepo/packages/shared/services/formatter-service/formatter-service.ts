export interface FormatOptions {
  maxLength?: number;
  ellipsis?: string;
}

/** Text and date formatting shared by apps and CLI output. */
export class FormatterService {
  private static instance: FormatterService | null = null;

  private constructor() {}

  static getInstance(): FormatterService {
    if (!FormatterService.instance) {
      FormatterService.instance = new FormatterService();
    }
    return FormatterService.instance;
  }

  truncate(text: string, options: FormatOptions = {}): string {
    const max = options.maxLength ?? 80;
    const ellipsis = options.ellipsis ?? '…';
    return text.length <= max ? text : text.slice(0, Math.max(0, max - ellipsis.length)) + ellipsis;
  }

  isoDate(value: Date | string): string {
    const date = typeof value === 'string' ? new Date(value) : value;
    return date.toISOString().slice(0, 10);
  }
}

export const formatterService = FormatterService.getInstance();
