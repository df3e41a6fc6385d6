package io.milan.operator.lifecycle;

import io.milan.api.CheckpointStatus;
import io.milan.api.MilanFinetuneSpec;
import io.milan.api.MilanPretrain;
import io.milan.api.RunPhase;
import io.milan.api.ObjectStorage;
import io.milan.api.StorageLocation;
import io.milan.operator.podgroup.ResolvedPretrained;

/**
 * Where a fine-tune's encoder comes from. A checkpoint location is used as is; a {@code pretrainRef} waits until
 * that MilanPretrain Succeeded and then starts from its final checkpoint ({@code status.checkpoint.path}), read
 * from the pretrain's output claim mounted read-only.
 */
public final class PretrainGate {
    /** Ready (use {@code pretrained}), Waiting, or Failed, with a message for status. */
    public record Result(ResolvedPretrained pretrained, boolean failed, String message) {
        static Result ready(ResolvedPretrained p, String message) {
            return new Result(p, false, message);
        }

        static Result waiting(String message) {
            return new Result(null, false, message);
        }

        static Result failed(String message) {
            return new Result(null, true, message);
        }

        public boolean isReady() {
            return pretrained != null;
        }
    }

    private PretrainGate() {
    }

    /** @param pretrain the referenced MilanPretrain, or null when it does not exist (or none is referenced) */
    public static Result resolve(MilanFinetuneSpec spec, MilanPretrain pretrain) {
        StorageLocation checkpoint = spec.pretrained.checkpoint;
        if (checkpoint != null) {
            if (checkpoint.s3 != null) {
                // Nothing to mount: the trainer downloads it with the location's own variables.
                return Result.ready(new ResolvedPretrained(checkpoint.s3.url, checkpoint),
                        "starts from checkpoint " + checkpoint.s3.url);
            }
            boolean claim = checkpoint.claimName != null && !checkpoint.claimName.isBlank();
            return Result.ready(new ResolvedPretrained(checkpoint.path, claim ? checkpoint : null),
                    "starts from checkpoint " + checkpoint.path);
        }
        String name = spec.pretrained.pretrainRef.name;
        if (pretrain == null) {
            return Result.waiting("waiting for MilanPretrain " + name + ", which does not exist yet");
        }
        RunPhase phase = pretrain.getStatus() == null ? null : pretrain.getStatus().phase;
        if (phase == RunPhase.Failed) {
            String why = pretrain.getStatus().message;
            return Result.failed("MilanPretrain " + name + " failed" + (why == null ? "" : ": " + why));
        }
        if (phase != RunPhase.Succeeded) {
            return Result.waiting("waiting for MilanPretrain " + name + " to succeed (phase: "
                    + (phase == null ? "none yet" : phase) + ")");
        }
        CheckpointStatus cp = pretrain.getStatus().checkpoint;
        if (cp == null || cp.path == null || cp.path.isBlank()) {
            return Result.failed("MilanPretrain " + name + " succeeded but reported no checkpoint"
                    + " (its status.checkpoint.path is empty)");
        }
        StorageLocation out = pretrain.getSpec().output;
        boolean onClaim = out != null && out.claimName != null && !out.claimName.isBlank();
        String path = cp.path;
        if (path.startsWith("s3://")) {
            if (!onClaim) {
                if (out == null || out.s3 == null) {
                    return Result.failed("MilanPretrain " + name + " reported checkpoint " + path + " but has no"
                            + " spec.output.s3 to read it with");
                }
                // Read from the bucket with the pretrain's own connection and credentials Secret.
                StorageLocation bucket = new StorageLocation();
                bucket.s3 = copyWithUrl(out.s3, path);
                return Result.ready(new ResolvedPretrained(path, bucket),
                        "starts from checkpoint " + path + " of MilanPretrain " + name);
            }
            // The bucket holds a copy of the output directory's file of the same name (docs/storage.md).
            path = (out.path.endsWith("/") ? out.path : out.path + "/") + path.substring(path.lastIndexOf('/') + 1);
        }
        if (!onClaim) {
            return Result.failed("MilanPretrain " + name + " kept its checkpoints in an emptyDir (no"
                    + " spec.output.claimName), so " + cp.path + " is gone; give the pretrain an output claim or"
                    + " set spec.pretrained.checkpoint");
        }
        String root = out.path.endsWith("/") ? out.path.substring(0, out.path.length() - 1) : out.path;
        if (!path.startsWith(root + "/")) {
            return Result.failed("MilanPretrain " + name + " reported checkpoint " + cp.path
                    + ", which is not under its output path " + out.path);
        }
        String relative = path.substring(root.length() + 1);
        StorageLocation mount = new StorageLocation(ResolvedPretrained.PRETRAIN_OUTPUT_MOUNT, out.claimName);
        mount.subPath = out.subPath;
        return Result.ready(new ResolvedPretrained(ResolvedPretrained.PRETRAIN_OUTPUT_MOUNT + "/" + relative, mount),
                "starts from checkpoint " + cp.path + " of MilanPretrain " + name);
    }

    private static ObjectStorage copyWithUrl(ObjectStorage s3, String url) {
        ObjectStorage copy = new ObjectStorage();
        copy.url = url;
        copy.endpoint = s3.endpoint;
        copy.region = s3.region;
        copy.pathStyle = s3.pathStyle;
        copy.credentialsSecret = s3.credentialsSecret;
        return copy;
    }
}
