/**
 * The trainer's side of the status contract: rank 0 writes {@code status.progress}, {@code status.eval} and
 * {@code status.checkpoint} of its own run by server-side apply under the field manager
 * {@value io.milan.api.report.RunReference#FIELD_MANAGER}. The operator writes every other status field, so the
 * two writers never fight. Start with {@link io.milan.api.report.StatusReporter#fromEnvironment()}.
 */
package io.milan.api.report;
