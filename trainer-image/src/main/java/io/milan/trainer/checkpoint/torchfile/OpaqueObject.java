package io.milan.trainer.checkpoint.torchfile;

import java.util.Map;

/**
 * An instance of a class this reader does not know (e.g. {@code argparse.Namespace}, the reference's saved
 * {@code args}), kept as data and never constructed: the name of its class, the arguments the pickle would have
 * called it with, and the state it would have set ({@code BUILD}; for a Namespace, the dict of its attributes).
 */
public final class OpaqueObject {
    private final PyGlobal type;
    private final Object arguments;
    private Object state;

    OpaqueObject(PyGlobal type, Object arguments) {
        this.type = type;
        this.arguments = arguments;
    }

    public PyGlobal type() {
        return type;
    }

    /** What the pickle passed to the class (a tuple), as data. */
    public Object arguments() {
        return arguments;
    }

    /** The state of BUILD (usually the instance's {@code __dict__}), or null. */
    public Object state() {
        return state;
    }

    /** The attributes when the state is a plain {@code __dict__}, else empty. */
    @SuppressWarnings("unchecked")
    public Map<Object, Object> attributes() {
        return state instanceof Map<?, ?> m ? (Map<Object, Object>) m : Map.of();
    }

    void setState(Object state) {
        this.state = state;
    }

    @Override
    public String toString() {
        return type + " (not constructed)";
    }
}
