package io.milan.trainer.checkpoint.torchfile;

/**
 * A name a pickle refers to ({@code GLOBAL module name}), e.g. {@code collections OrderedDict}. Only a name:
 * nothing is looked up or run; {@link TorchGlobals} decides what calling it means.
 */
public record PyGlobal(String module, String name) {
    @Override
    public String toString() {
        return module + "." + name;
    }
}
