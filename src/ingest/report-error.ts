/** A report file could not be read as a test report. The message names the file and says what to do. */
export class ReportError extends Error {
  readonly file: string;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'ReportError';
    this.file = file;
  }
}
