// The report renderers' front door: every function here reads a Report and returns text or data.

export { renderMarkdown, REPORT_MARKER, GITHUB_COMMENT_LIMIT, type MarkdownOptions } from './markdown.ts';
export { renderTerminal, type TerminalOptions } from './terminal.ts';
export { renderHtml } from './html.ts';
export { renderAnnotations, type Annotation, type AnnotationLevel } from './annotations.ts';
export { validateReport, REPORT_SCHEMA, type ReportValidation } from './json.ts';
export { headline } from './findings.ts';
