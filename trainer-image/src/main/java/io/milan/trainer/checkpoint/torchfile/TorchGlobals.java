package io.milan.trainer.checkpoint.torchfile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What calling a pickled global means: the whitelist. Only the few functions and classes that {@code torch.save}
 * files use for data are given a meaning (below), and all of it is done here in Java: no Python name is ever
 * looked up or run. Any other class becomes an {@link OpaqueObject} holding its arguments and state as data
 * (the reference's {@code args}, an {@code argparse.Namespace}, is one), and any other function call too,
 * so a file naming {@code os.system} yields an inert object, nothing more.
 * <ul>
 *   <li>{@code collections.OrderedDict()}: an empty insertion-ordered dict (the state_dict type);</li>
 *   <li>{@code torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_tensor_v3}: a {@link TorchTensor},
 *       a strided view of a storage;</li>
 *   <li>{@code torch._utils._rebuild_parameter[_with_state]}: an {@code nn.Parameter}, kept as its tensor;</li>
 *   <li>{@code torch.Size(t)}: the tuple;</li>
 *   <li>{@code copyreg._reconstructor(cls, base, state)} (protocol 0/1 instances): an opaque {@code cls}.</li>
 * </ul>
 */
final class TorchGlobals {
    private static final PyGlobal ORDERED_DICT = new PyGlobal("collections", "OrderedDict");

    private TorchGlobals() {
    }

    /** {@code REDUCE}: {@code callable(*args)}. */
    static Object call(PyGlobal callable, PyTuple args) {
        String module = callable.module();
        String name = callable.name();
        if (callable.equals(ORDERED_DICT)) {
            return orderedDict(args);
        }
        if (module.equals("torch._utils")) {
            switch (name) {
                case "_rebuild_tensor_v2", "_rebuild_tensor" -> {
                    return tensor(args, null);
                }
                case "_rebuild_tensor_v3" -> {
                    // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata]): typed by dtype
                    return tensor(args, dtypeArgument(args, 6));
                }
                case "_rebuild_parameter", "_rebuild_parameter_with_state" -> {
                    Object data = argument(args, 0, callable);
                    if (!(data instanceof TorchTensor)) {
                        throw new Unpickler.Problem(callable + " of a " + Unpickler.typeName(data) + ", not a tensor");
                    }
                    return data;
                }
                default -> {
                    // other rebuild functions (sparse, quantized, nested tensors) are not state_dict material
                    throw new Unpickler.Problem(callable + " is not supported (sparse, quantized and nested"
                            + " tensors are not read)");
                }
            }
        }
        if (module.equals("torch") && name.equals("Size") && args.size() == 1 && args.get(0) instanceof PyTuple t) {
            return t;
        }
        if (module.equals("copyreg") && name.equals("_reconstructor") && args.size() >= 1
                && args.get(0) instanceof PyGlobal cls) {
            return new OpaqueObject(cls, args);
        }
        return new OpaqueObject(callable, args);
    }

    /** {@code NEWOBJ}: {@code cls.__new__(cls, *args)}. */
    static Object newObject(PyGlobal cls, PyTuple args) {
        if (cls.equals(ORDERED_DICT)) {
            return orderedDict(args);
        }
        return new OpaqueObject(cls, args);
    }

    /** {@code BUILD}: sets the state of the object on the stack. */
    static void build(Object target, Object state) {
        if (target instanceof OpaqueObject opaque) {
            opaque.setState(state);
        } else if (target instanceof Map || target instanceof TorchTensor) {
            // An OrderedDict's attributes (a state_dict's _metadata: per-module versions) and a tensor's Python
            // attributes carry no weights; they are dropped.
        } else {
            throw new Unpickler.Problem("BUILD on a " + Unpickler.typeName(target));
        }
    }

    private static Map<Object, Object> orderedDict(PyTuple args) {
        if (args.size() != 0) {
            throw new Unpickler.Problem("collections.OrderedDict called with arguments (torch.save does not)");
        }
        return new LinkedHashMap<>();
    }

    private static TorchTensor tensor(PyTuple args, TorchDtype dtype) {
        if (args.size() < 4) {
            throw new Unpickler.Problem("a tensor rebuilt from " + args.size() + " arguments (expected storage,"
                    + " offset, size, stride)");
        }
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw new Unpickler.Problem("a tensor whose storage is a " + Unpickler.typeName(args.get(0))
                    + " (expected a persistent storage reference)");
        }
        if (dtype != null && dtype != storage.dtype()) {
            if (storage.byteLength() % dtype.bytes() != 0 || storage.elementOffset() != 0) {
                throw new Unpickler.Problem("a " + dtype + " tensor over a storage of " + storage.byteLength()
                        + " bytes");
            }
            storage = new StorageRef(storage.key(), dtype, storage.byteLength() / dtype.bytes(), 0);
        }
        long offset = nonNegative(args.get(1), "storage offset");
        long[] shape = longs(args.get(2), "size");
        long[] stride = longs(args.get(3), "stride");
        if (shape.length != stride.length) {
            throw new Unpickler.Problem("a tensor with " + shape.length + " sizes but " + stride.length + " strides");
        }
        return new TorchTensor(storage, offset, shape, stride);
    }

    private static TorchDtype dtypeArgument(PyTuple args, int index) {
        if (args.size() > index && args.get(index) instanceof PyGlobal g) {
            return TorchDtype.ofDtypeGlobal(g).orElseThrow(() -> new Unpickler.Problem("tensor dtype " + g
                    + " is not supported"));
        }
        throw new Unpickler.Problem("_rebuild_tensor_v3 without a dtype");
    }

    private static Object argument(PyTuple args, int index, PyGlobal callable) {
        if (args.size() <= index) {
            throw new Unpickler.Problem(callable + " called with " + args.size() + " arguments");
        }
        return args.get(index);
    }

    private static long[] longs(Object o, String what) {
        List<Object> items = o instanceof PyTuple t ? t.items() : o instanceof List<?> l ? List.copyOf(l) : null;
        if (items == null) {
            throw new Unpickler.Problem("a tensor " + what + " that is a " + Unpickler.typeName(o) + ", not a tuple");
        }
        if (items.size() > 64) {
            throw new Unpickler.Problem("a tensor of " + items.size() + " dimensions");
        }
        long[] values = new long[items.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = nonNegative(items.get(i), what);
        }
        return values;
    }

    private static long nonNegative(Object o, String what) {
        if (o instanceof Long v && v >= 0) {
            return v;
        }
        throw new Unpickler.Problem("a tensor " + what + " of " + (o instanceof Long ? o : Unpickler.typeName(o))
                + " (expected an int >= 0)");
    }
}
