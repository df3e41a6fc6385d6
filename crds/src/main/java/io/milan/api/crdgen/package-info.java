/**
 * The build step that writes the CRD YAML ({@code crds/manifests/*.yml}) from the API types: Fabric8's CRD generator
 * plus what its annotations cannot say. Runs in the {@code process-classes} phase of the crds module; nothing at run
 * time uses it (the generator is an optional dependency, so the operator and the trainer do not get it).
 */
package io.milan.api.crdgen;
