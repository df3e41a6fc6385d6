package io.milan.testsupport;

import java.util.List;

/** The outcome of an external command: exit code and both output streams. */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {

    /** True when the command exited with status 0. */
    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Returns this result, or throws with the command's output if it did not exit with 0. */
    public CommandResult orThrow() {
        if (!succeeded()) {
            throw new IllegalStateException(describe());
        }
        return this;
    }

    /** A readable summary for assertion and exception messages. */
    public String describe() {
        return String.join(" ", command) + " exited with " + exitCode
                + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
    }
}
