package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * A directory or file the trainer reads or writes: a path inside the container, optionally on a
 * PersistentVolumeClaim mounted there. Without a claim the path must exist in the trainer image (the CPU image
 * ships Fashion-MNIST this way). The output may also name an object storage location ({@link ObjectStorage}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class StorageLocation {
    @Required
    @Pattern("^/.*")
    @Size(max = 4096) // PATH_MAX; bounds the cost of the CEL rules comparing mount paths with it
    @JsonPropertyDescription("Absolute path inside the trainer container. With claimName it is the mount point"
            + " (plus subPath) of the claim; without it, a path that exists in the trainer image.")
    public String path;

    @JsonPropertyDescription("Name of a PersistentVolumeClaim in the run's namespace mounted at path."
            + " Required for the output location if checkpoints must survive a gang restart.")
    public String claimName;

    @JsonPropertyDescription("Sub-path within the claim to mount at path.")
    public String subPath;

    @JsonPropertyDescription("spec.output only: also keep checkpoints in this object storage location, each"
            + " uploaded when saved and listed in a manifest there; a restarted gang resumes from it, so no claim"
            + " is needed (path is then the trainer's local working copy, an emptyDir without claimName)."
            + " status.checkpoint.path is the object's s3:// URL.")
    public ObjectStorage s3;

    public StorageLocation() {
    }

    public StorageLocation(String path, String claimName) {
        this.path = path;
        this.claimName = claimName;
    }
}
