package io.milan.trainer.train;

import com.google.gson.Gson;
import io.milan.api.TrainerExitCodes;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** How a training command ended without an error, and the exit code that says so. */
public enum Ending {
    /** Every epoch trained. */
    FINISHED(0),
    /** Stopped on SIGTERM by every rank together ({@link GracefulStop}); resumable from the newest checkpoint. */
    DISRUPTED(TrainerExitCodes.DISRUPTED);

    private final int exitCode;

    Ending(int exitCode) {
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    /** Rank 0's termination message after a stop: the step every rank stopped after, the checkpoint it saved. */
    static String disruptedSummary(long globalStep, Path newestCheckpoint) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("phase", "disrupted");
        summary.put("globalStep", globalStep);
        summary.put("checkpointSaved", newestCheckpoint == null ? null : newestCheckpoint.getFileName().toString());
        return new Gson().toJson(summary);
    }
}
