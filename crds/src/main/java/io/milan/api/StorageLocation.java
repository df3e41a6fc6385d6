package io.milan.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * A directory or file the trainer reads or writes: a path inside the container, optionally on a
 * PersistentVolumeClaim mounted there, or an object storage location ({@link ObjectStorage}). Without a claim the
 * path must exist in the trainer image (the CPU image ships Fashion-MNIST this way). An input is either a path or
 * in object storage (its spec's rules say so); the output always has a path, its local working copy, and may keep
 * its checkpoints in object storage as well.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.path) || has(self.s3)",
        message = "set path (a path in the trainer container, on a claim with claimName) or s3 (an object storage"
                + " location)")
@ValidationRule(value = "!has(self.claimName) || has(self.path)",
        message = "claimName needs path, the claim's mount point in the trainer container")
@JsonIgnoreProperties(ignoreUnknown = true)
public class StorageLocation {
    /** An input is read from one place: a path (on a claim, or in the image) or object storage. */
    static final String INPUT_RULE = "!(has(self.path) && has(self.s3))";
    static final String INPUT_MESSAGE = " sets either path (with claimName for a claim) or s3, not both";

    @Pattern("^/.*")
    @Size(max = 4096) // PATH_MAX; bounds the cost of the CEL rules comparing mount paths with it
    @JsonPropertyDescription("Absolute path inside the trainer container. With claimName it is the mount point"
            + " (plus subPath) of the claim; without it, a path that exists in the trainer image. Required for the"
            + " output; an input sets path or s3.")
    public String path;

    @JsonPropertyDescription("Name of a PersistentVolumeClaim in the run's namespace mounted at path."
            + " Required for the output location if checkpoints must survive a gang restart.")
    public String claimName;

    @JsonPropertyDescription("Sub-path within the claim to mount at path.")
    public String subPath;

    @JsonPropertyDescription("An object storage location. For an input, instead of path: the dataset's prefix"
            + " holding train/ and val/ as shards written by `milan-trainer shard` (streamed), or the teacher's or"
            + " pretrained checkpoint's object (downloaded once per pod). For spec.output: also keep checkpoints"
            + " there, each uploaded when saved and listed in a manifest; a restarted gang resumes from it, so no claim"
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
