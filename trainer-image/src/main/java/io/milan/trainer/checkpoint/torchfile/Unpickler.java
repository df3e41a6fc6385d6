package io.milan.trainer.checkpoint.torchfile;

import java.io.EOFException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pickle machine, for the opcodes {@code torch.save} and Python's pickle protocols 0-5 use for plain data:
 * None, bools, ints, floats, str, bytes, tuples, lists, dicts, sets, the memo, and persistent ids (the storages).
 * It never runs anything: a {@code GLOBAL} becomes a {@link PyGlobal} name, and calling it ({@code REDUCE},
 * {@code NEWOBJ}) or setting its state ({@code BUILD}) is decided by {@link TorchGlobals}, whose answer for an
 * unknown class is an {@link OpaqueObject}. Python dicts become insertion-ordered {@link LinkedHashMap}s (an
 * OrderedDict keeps its order), lists {@link ArrayList}s, tuples {@link PyTuple}s, ints {@link Long} (or
 * {@link BigInteger} beyond 64 bits), floats {@link Double}, str {@link String}, bytes {@code byte[]}.
 *
 * <p>Bounded by {@link PickleLimits}; the machine is iterative (no recursion), and the objects it builds may be
 * nested deeply or even in cycles (Python allows {@code l.append(l)}), so walk them with a depth bound.
 */
final class Unpickler {

    /** Resolves a persistent id (the {@code BINPERSID} tuple) to the object it stands for. */
    interface PersistentLoader {
        Object load(Object pid) throws IOException;
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final Path file;
    private final String what;
    private final PickleInput in;
    private final PickleLimits limits;
    private final PersistentLoader persistent;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long ops;

    /**
     * @param what names the pickle in messages, e.g. {@code archive/data.pkl}
     */
    Unpickler(Path file, String what, PickleInput in, PickleLimits limits, PersistentLoader persistent) {
        this.file = file;
        this.what = what;
        this.in = in;
        this.limits = limits;
        this.persistent = persistent;
    }

    /** Runs the pickle to its STOP and returns its object; any problem is a {@link TorchFileException}. */
    Object load() throws TorchFileException {
        long opcodeAt = in.position();
        int op = -1;
        try {
            while (true) {
                opcodeAt = in.position();
                op = in.readByte();
                if (++ops > limits.maxOps()) {
                    throw problem("more than " + limits.maxOps() + " pickle opcodes");
                }
                if (op == '.') {
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw problem("STOP with " + stack.size() + " values on the stack (expected one)");
                    }
                    return stack.get(0);
                }
                execute(op);
                if (stack.size() + marks.size() > limits.maxStack()) {
                    throw problem("more than " + limits.maxStack() + " values on the pickle stack");
                }
            }
        } catch (TorchFileException e) {
            throw e;
        } catch (EOFException e) {
            throw new TorchFileException(file, what + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new TorchFileException(file, what + " at byte " + opcodeAt + " (opcode " + describe(op) + "): "
                    + (e instanceof Problem ? e.getMessage() : e.toString()), e);
        }
    }

    private void execute(int op) throws IOException {
        switch (op) {
            case 0x80 -> { // PROTO
                int protocol = in.readByte();
                if (protocol > 5) {
                    throw problem("pickle protocol " + protocol + " (this reader knows 0 to 5)");
                }
            }
            case 0x95 -> in.readBytes(8); // FRAME: a length hint only
            case '(' -> marks.push(stack.size());                       // MARK
            case '0' -> pop();                                          // POP
            case '1' -> popMark();                                      // POP_MARK
            case '2' -> push(peek());                                   // DUP
            case 'N' -> push(null);                                     // NONE
            case 0x88 -> push(Boolean.TRUE);                            // NEWTRUE
            case 0x89 -> push(Boolean.FALSE);                           // NEWFALSE
            case 'J' -> push((long) (int) in.readUnsigned(4));          // BININT (signed)
            case 'K' -> push(in.readUnsigned(1));                       // BININT1
            case 'M' -> push(in.readUnsigned(2));                       // BININT2
            case 0x8a -> push(longFromBytes(in.readUnsigned(1)));       // LONG1
            case 0x8b -> push(longFromBytes((int) in.readUnsigned(4))); // LONG4 (signed length)
            case 'I' -> push(textInt(in.readLine(limits.maxIntBytes() + 2)));  // INT
            case 'L' -> push(textInt(in.readLine(limits.maxIntBytes() + 2)));  // LONG
            case 'G' -> push(ByteBuffer.wrap(in.readBytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
            case 'F' -> push(textFloat(in.readLine(64)));               // FLOAT
            case 'V' -> push(unescape(in.readLine(limits.maxTextLine()), false)); // UNICODE (raw-unicode-escape)
            case 'S' -> push(quoted(in.readLine(limits.maxTextLine())));  // STRING (a quoted repr)
            case 'X' -> push(utf8(in.readBytes(in.readUnsigned(4))));   // BINUNICODE
            case 0x8c -> push(utf8(in.readBytes(in.readUnsigned(1))));  // SHORT_BINUNICODE
            case 0x8d -> push(utf8(in.readBytes(length8())));           // BINUNICODE8
            case 'T' -> push(latin1(in.readBytes((int) in.readUnsigned(4)))); // BINSTRING (signed length)
            case 'U' -> push(latin1(in.readBytes(in.readUnsigned(1))));  // SHORT_BINSTRING
            case 'B' -> push(in.readBytes(in.readUnsigned(4)));         // BINBYTES
            case 'C' -> push(in.readBytes(in.readUnsigned(1)));         // SHORT_BINBYTES
            case 0x8e, 0x96 -> push(in.readBytes(length8()));           // BINBYTES8, BYTEARRAY8
            case ')' -> push(new PyTuple(List.of()));                   // EMPTY_TUPLE
            case 't' -> push(new PyTuple(popToMark()));                 // TUPLE
            case 0x85 -> push(tupleOfTop(1));                           // TUPLE1
            case 0x86 -> push(tupleOfTop(2));                           // TUPLE2
            case 0x87 -> push(tupleOfTop(3));                           // TUPLE3
            case ']' -> push(new ArrayList<>());                        // EMPTY_LIST
            case 'l' -> push(new ArrayList<>(popToMark()));             // LIST
            case 'a' -> { Object v = pop(); list(peek()).add(v); }      // APPEND
            case 'e' -> { List<Object> items = popToMark(); list(peek()).addAll(items); } // APPENDS
            case '}' -> push(new LinkedHashMap<>());                    // EMPTY_DICT
            case 'd' -> { Map<Object, Object> d = new LinkedHashMap<>(); putAll(d, popToMark()); push(d); } // DICT
            case 's' -> { Object v = pop(); Object k = pop(); dict(peek()).put(key(k), v); } // SETITEM
            case 'u' -> { List<Object> kv = popToMark(); putAll(dict(peek()), kv); } // SETITEMS
            case 0x8f -> push(new PySet(new ArrayList<>(), false));     // EMPTY_SET
            case 0x90 -> { List<Object> items = popToMark(); set(peek()).items().addAll(items); } // ADDITEMS
            case 0x91 -> push(new PySet(popToMark(), true));            // FROZENSET
            case 'c' -> push(new PyGlobal(in.readLine(256), in.readLine(256))); // GLOBAL
            case 0x93 -> { String name = string(pop()); push(new PyGlobal(string(pop()), name)); } // STACK_GLOBAL
            case 'R' -> { Object args = pop(); push(TorchGlobals.call(callable(pop()), tuple(args))); } // REDUCE
            case 0x81 -> { Object args = pop(); push(TorchGlobals.newObject(callable(pop()), tuple(args))); } // NEWOBJ
            case 0x92 -> { // NEWOBJ_EX: keyword arguments dropped, as an opaque class ignores them
                pop();
                Object args = pop();
                push(TorchGlobals.newObject(callable(pop()), tuple(args)));
            }
            case 'b' -> { Object state = pop(); TorchGlobals.build(peek(), state); } // BUILD
            case 'Q' -> push(persistent.load(pop()));                   // BINPERSID
            case 'P' -> push(persistent.load(in.readLine(256)));        // PERSID
            case 'h' -> push(memoGet(in.readUnsigned(1)));              // BINGET
            case 'j' -> push(memoGet(in.readUnsigned(4)));              // LONG_BINGET
            case 'g' -> push(memoGet(textIndex(in.readLine(20))));      // GET
            case 'q' -> memoPut(in.readUnsigned(1));                    // BINPUT
            case 'r' -> memoPut(in.readUnsigned(4));                    // LONG_BINPUT
            case 'p' -> memoPut(textIndex(in.readLine(20)));            // PUT
            case 0x94 -> memoPut(memo.size());                          // MEMOIZE
            default -> throw problem("opcode " + describe(op) + " is not supported (extension registry, out-of-band"
                    + " buffers and old-style instances are not used by torch.save)");
        }
    }

    // ---------------------------------------------------------------- stack

    private void push(Object value) {
        stack.add(value);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) {
            throw problem("the pickle pops from an empty stack");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) {
            throw problem("the pickle reads from an empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popToMark() {
        if (marks.isEmpty()) {
            throw problem("the pickle needs a MARK it did not set");
        }
        int at = marks.pop();
        List<Object> top = new ArrayList<>(stack.subList(at, stack.size()));
        stack.subList(at, stack.size()).clear();
        return top;
    }

    private void popMark() {
        popToMark();
    }

    private PyTuple tupleOfTop(int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop();
        }
        return PyTuple.of(items);
    }

    // ---------------------------------------------------------------- memo

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw problem("memo entry " + index + " is read before it is written");
        }
        return memo.get(index);
    }

    private void memoPut(long index) {
        if (!memo.containsKey(index) && memo.size() >= limits.maxMemo()) {
            throw problem("more than " + limits.maxMemo() + " memo entries");
        }
        memo.put(index, peek());
    }

    // ---------------------------------------------------------------- values

    private void putAll(Map<Object, Object> dict, List<Object> keysAndValues) {
        if (keysAndValues.size() % 2 != 0) {
            throw problem("a dict is built from an odd number of keys and values");
        }
        for (int i = 0; i < keysAndValues.size(); i += 2) {
            dict.put(key(keysAndValues.get(i)), keysAndValues.get(i + 1));
        }
    }

    /** Dict keys are plain values or tuples of them: hashing them cannot recurse deeply or loop. */
    private static Object key(Object k) {
        if (isPlain(k)) {
            return k;
        }
        if (k instanceof PyTuple t && t.items().stream().allMatch(Unpickler::isPlain)) {
            return k;
        }
        throw new Problem("a dict key of type " + typeName(k) + " (keys must be str, int, float, bool, None or"
                + " tuples of those)");
    }

    private static boolean isPlain(Object k) {
        return k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Double
                || k instanceof Boolean || k instanceof PyGlobal;
    }

    private Object longFromBytes(long n) throws IOException {
        if (n < 0 || n > limits.maxIntBytes()) {
            throw problem("an int of " + n + " bytes (at most " + limits.maxIntBytes() + ")");
        }
        byte[] le = in.readBytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be); // two's complement, as pickle's encode_long
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object textInt(String line) {
        String s = line.endsWith("L") ? line.substring(0, line.length() - 1) : line;
        if (s.equals("00")) {
            return Boolean.FALSE; // protocol 0 spells bools as INT 00 / 01
        }
        if (s.equals("01")) {
            return Boolean.TRUE;
        }
        if (s.length() > limits.maxIntBytes() || !s.matches("[+-]?[0-9]+")) {
            throw problem("'" + abbreviate(s) + "' is not an int");
        }
        BigInteger v = new BigInteger(s);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object textFloat(String line) {
        try {
            String s = line.trim().toLowerCase(java.util.Locale.ROOT);
            // Python's repr of the non-finite floats: inf, -inf, nan
            return s.equals("nan") ? Double.NaN : s.endsWith("inf") ? (s.startsWith("-") ? Double.NEGATIVE_INFINITY
                    : Double.POSITIVE_INFINITY) : Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw problem("'" + abbreviate(line) + "' is not a float");
        }
    }

    private long textIndex(String line) {
        if (!line.matches("[0-9]{1,18}")) {
            throw problem("'" + abbreviate(line) + "' is not a memo index");
        }
        return Long.parseLong(line);
    }

    private long length8() throws IOException {
        byte[] b = in.readBytes(8);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0) {
            throw problem("a length of more than 2^63 bytes");
        }
        return n;
    }

    private String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw problem("a str that is not valid UTF-8");
        }
    }

    /** A protocol-0 STRING: {@code 'text'} or {@code "text"} with Python's backslash escapes. */
    private String quoted(String line) {
        if (line.length() < 2 || (line.charAt(0) != '\'' && line.charAt(0) != '"')
                || line.charAt(line.length() - 1) != line.charAt(0)) {
            throw problem("a STRING that is not quoted");
        }
        return unescape(line.substring(1, line.length() - 1), true);
    }

    /** Python's escapes: {@code \\uXXXX} and {@code \\UXXXXXXXX} (both kinds), and for STRING also the C ones. */
    private String unescape(String text, boolean cEscapes) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '\\' || i + 1 == text.length()) {
                out.append(c);
                continue;
            }
            char e = text.charAt(++i);
            int hex = e == 'u' ? 4 : e == 'U' ? 8 : e == 'x' && cEscapes ? 2 : 0;
            if (hex > 0) {
                if (i + hex >= text.length()) {
                    throw problem("a truncated \\" + e + " escape");
                }
                try {
                    out.appendCodePoint(Integer.parseInt(text.substring(i + 1, i + 1 + hex), 16));
                } catch (IllegalArgumentException | IndexOutOfBoundsException ex) {
                    throw problem("an invalid \\" + e + " escape");
                }
                i += hex;
            } else if (cEscapes) {
                out.append(switch (e) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case '0' -> '\0';
                    default -> e; // \\ \' \"
                });
            } else {
                out.append('\\').append(e);
            }
        }
        return out.toString();
    }

    private static String latin1(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    // ---------------------------------------------------------------- type checks with clear messages

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        if (o instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new Problem("APPEND to a " + typeName(o) + ", not a list");
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object o) {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new Problem("SETITEM on a " + typeName(o) + ", not a dict");
    }

    private static PySet set(Object o) {
        if (o instanceof PySet s && !s.frozen()) {
            return s;
        }
        throw new Problem("ADDITEMS on a " + typeName(o) + ", not a set");
    }

    private static PyTuple tuple(Object o) {
        if (o instanceof PyTuple t) {
            return t;
        }
        throw new Problem("call arguments are a " + typeName(o) + ", not a tuple");
    }

    private static PyGlobal callable(Object o) {
        if (o instanceof PyGlobal g) {
            return g;
        }
        throw new Problem("a call of a " + typeName(o) + " (only named globals are callable)");
    }

    private static String string(Object o) {
        if (o instanceof String s) {
            return s;
        }
        throw new Problem("STACK_GLOBAL with a " + typeName(o) + " for a name");
    }

    static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof OpaqueObject opaque) {
            return opaque.type().toString();
        }
        if (o instanceof Map) {
            return "dict";
        }
        if (o instanceof List) {
            return "list";
        }
        return o.getClass().getSimpleName();
    }

    private static String describe(int op) {
        return op < 0 ? "none" : op >= 0x20 && op < 0x7f ? "'" + (char) op + "'" : String.format("0x%02x", op);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static Problem problem(String message) {
        return new Problem(message);
    }

    /** A structural problem of the pickle; {@link #load} adds the file, position and opcode. */
    static final class Problem extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Problem(String message) {
            super(message, null, false, false);
        }
    }
}
