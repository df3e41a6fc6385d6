package io.milan.trainer.checkpoint.torchfile;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-written pickles for the hostile-file tests: opcodes as Python's pickletools names them. */
final class PickleBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBytes() {
        op(0x80).op(2); // PROTO 2
    }

    PickleBytes op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').int4(b.length);
        out.writeBytes(b);
        return this;
    }

    PickleBytes binint(int v) {
        return op('J').int4(v);
    }

    PickleBytes int4(int v) {
        for (int i = 0; i < 4; i++) {
            out.write((v >>> (8 * i)) & 0xff);
        }
        return this;
    }

    PickleBytes global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    PickleBytes repeat(int opcode, int times) {
        for (int i = 0; i < times; i++) {
            out.write(opcode);
        }
        return this;
    }

    /** A float tensor of {@code size} elements over storage '0' of {@code numel} elements, offset and stride given. */
    PickleBytes tensor(long numel, int offset, int size, int stride) {
        global("torch._utils", "_rebuild_tensor_v2").op('(');
        op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").binint((int) numel).op('t')
                .op('Q');
        binint(offset).op('(').binint(size).op('t').op('(').binint(stride).op('t').op(0x89);
        global("collections", "OrderedDict").op(')').op('R');
        return op('t').op('R');
    }

    /** {'model': {name: tensor}} around {@link #tensor}. */
    PickleBytes modelWithOneTensor(String name, long numel, int offset, int size, int stride) {
        op('}').str("model").op('}').str(name);
        tensor(numel, offset, size, stride);
        return op('s').op('s').op('.');
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
