/**
 * The Milan API: the {@code MilanPretrain} and {@code MilanFinetune} custom resources (group {@code milan.io},
 * version {@code v1alpha1}). The operator and the trainer both depend on these types; the CRD YAML under
 * {@code crds/manifests/} is generated from them by Fabric8's CRD generator.
 *
 * <p>Field names mirror the reference trainer's command line (batchSize for {@code --batch_size} ...), so a
 * user can translate a MILAN command line field by field. Validation lives in the schema: OpenAPI bounds and
 * CEL rules whose messages name the field.
 *
 * <p>Every type reads fields it does not know without failing ({@code @JsonIgnoreProperties(ignoreUnknown = true)}),
 * as Kubernetes clients must: during an upgrade the CRDs change first, and an operator or trainer image one
 * version behind would otherwise stop its informer on the first run that sets a new field.
 */
package io.milan.api;
