package io.milan.trainer.checkpoint;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.milan.trainer.checkpoint.SafeTensors.Dtype;
import io.milan.trainer.checkpoint.SafeTensors.Header;
import io.milan.trainer.checkpoint.SafeTensors.TensorInfo;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parsing and validation of a safetensors header: the length prefix, strict JSON, each tensor's dtype,
 * shape and offsets, and that the tensors exactly fill the data section (which catches truncated files).
 */
final class SafeTensorsHeader {

    private static final String METADATA = SafeTensors.METADATA;
    private static final long MAX_HEADER_BYTES = 100L << 20; // the reference Rust implementation's limit

    private SafeTensorsHeader() {
    }

    /** Reads and validates the header of an open file. */
    static Header read(Path file, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new SafeTensorsFormatException(file, "only " + fileSize
                    + " bytes; too short to be a safetensors file (truncated?)");
        }
        ByteBuffer lengthBytes = SafeTensors.readRange(file, channel, 0, 8, SafeTensors.allocate(file, 8)).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > fileSize - 8) {
            throw new SafeTensorsFormatException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " is impossible for a file of " + fileSize + " bytes (truncated, corrupt, or not a"
                    + " safetensors file)");
        }
        ByteBuffer headerBytes = SafeTensors.readRange(file, channel, 8, headerLength, SafeTensors.allocate(file, headerLength));
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsFormatException(file, "header is not valid UTF-8", e);
        }
        if (!json.startsWith("{")) {
            throw new SafeTensorsFormatException(file, "header does not start with '{' (not a safetensors file?)");
        }
        JsonObject root;
        try {
            JsonReader reader = new JsonReader(new StringReader(json));
            reader.setStrictness(Strictness.STRICT); // Gson is lenient by default; a header must be real JSON
            root = JsonParser.parseReader(reader).getAsJsonObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("unexpected content after the JSON object");
            }
        } catch (JsonParseException | IllegalStateException | IOException e) {
            throw new SafeTensorsFormatException(file, "header is not a valid JSON object: " + e.getMessage(), e);
        }
        long dataStart = 8 + headerLength;
        long dataLength = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            if (e.getKey().equals(METADATA)) {
                metadata.putAll(parseMetadata(file, e.getValue()));
            } else {
                tensors.put(e.getKey(), parseTensor(file, e.getKey(), e.getValue()));
            }
        }
        Header header = new Header(file, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata),
                dataStart, dataLength);
        checkLayout(file, header);
        return header;
    }

    private static Map<String, String> parseMetadata(Path file, JsonElement element) throws IOException {
        if (!element.isJsonObject()) {
            throw new SafeTensorsFormatException(file, METADATA + " is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : element.getAsJsonObject().entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new SafeTensorsFormatException(file, "metadata value of '" + e.getKey() + "' is not a string");
            }
            metadata.put(e.getKey(), v.getAsString());
        }
        return metadata;
    }

    private static TensorInfo parseTensor(Path file, String name, JsonElement element) throws IOException {
        if (!element.isJsonObject()) {
            throw new SafeTensorsFormatException(file, "entry for tensor '" + name + "' is not a JSON object");
        }
        JsonObject o = element.getAsJsonObject();
        JsonElement dtypeElement = o.get("dtype");
        if (dtypeElement == null || !dtypeElement.isJsonPrimitive()) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "' has no dtype");
        }
        Dtype dtype;
        try {
            dtype = Dtype.valueOf(dtypeElement.getAsString());
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsFormatException(file, "tensor '" + name + "' has unsupported dtype "
                    + dtypeElement.getAsString() + "; supported: " + Arrays.toString(Dtype.values()));
        }
        long[] shape = longs(file, name, "shape", o.get("shape"), -1);
        long[] offsets = longs(file, name, "data_offsets", o.get("data_offsets"), 2);
        return new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] longs(Path file, String tensor, String field, JsonElement element, int expectedLength)
            throws IOException {
        if (element == null || !element.isJsonArray()
                || (expectedLength >= 0 && element.getAsJsonArray().size() != expectedLength)) {
            throw new SafeTensorsFormatException(file, "tensor '" + tensor + "' has no valid " + field
                    + (expectedLength >= 0 ? " (expected " + expectedLength + " integers)" : ""));
        }
        JsonArray array = element.getAsJsonArray();
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            JsonElement v = array.get(i);
            try {
                values[i] = new BigDecimal(v.getAsJsonPrimitive().getAsString()).longValueExact();
            } catch (ArithmeticException | NumberFormatException | IllegalStateException e) {
                throw new SafeTensorsFormatException(file, "tensor '" + tensor + "' " + field + " holds " + v
                        + ", not an integer");
            }
            if (values[i] < 0) {
                throw new SafeTensorsFormatException(file, "tensor '" + tensor + "' " + field + " holds a negative"
                        + " value " + values[i]);
            }
        }
        return values;
    }

    /** Each tensor's byte length must match its shape, and together they must fill the data exactly. */
    private static void checkLayout(Path file, Header header) throws IOException {
        long expectedBegin = 0;
        for (TensorInfo info : byOffset(header)) {
            long elements;
            try {
                elements = 1;
                for (long d : info.shape()) {
                    elements = Math.multiplyExact(elements, d);
                }
                elements = Math.multiplyExact(elements, info.dtype().bytes);
            } catch (ArithmeticException e) {
                throw new SafeTensorsFormatException(file, "tensor '" + info.name() + "' shape is too large");
            }
            if (info.begin() != expectedBegin || info.end() < info.begin()) {
                throw new SafeTensorsFormatException(file, "tensor '" + info.name() + "' data_offsets ["
                        + info.begin() + ", " + info.end() + "] leave a gap or overlap at byte " + expectedBegin);
            }
            if (info.end() - info.begin() != elements) {
                throw new SafeTensorsFormatException(file, "tensor '" + info.name() + "' has "
                        + (info.end() - info.begin()) + " bytes but its " + info.dtype() + " shape "
                        + Arrays.toString(info.shape()) + " needs " + elements);
            }
            expectedBegin = info.end();
        }
        if (expectedBegin > header.dataLength()) {
            throw new SafeTensorsFormatException(file, "the tensors need " + expectedBegin + " data bytes but the file"
                    + " has only " + header.dataLength() + " (truncated)");
        }
        if (expectedBegin < header.dataLength()) {
            throw new SafeTensorsFormatException(file, (header.dataLength() - expectedBegin)
                    + " unexpected bytes after the last tensor");
        }
    }

    /** The tensors in data order. */
    static List<TensorInfo> byOffset(Header header) {
        List<TensorInfo> sorted = new ArrayList<>(header.tensors().values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        return sorted;
    }
}
