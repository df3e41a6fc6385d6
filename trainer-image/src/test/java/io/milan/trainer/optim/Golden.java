package io.milan.trainer.optim;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads optim/golden.json (values produced by torch.optim.AdamW and MoCo v3's LARS; see make_golden.py). */
final class Golden {

    private Golden() {
    }

    static JsonObject load() {
        try (InputStream in = Golden.class.getResourceAsStream("/optim/golden.json")) {
            if (in == null) {
                throw new IllegalStateException("test resource /optim/golden.json is missing");
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The flattened values of a (possibly nested) JSON number array, as floats. */
    static float[] flat(JsonElement element) {
        List<Float> out = new ArrayList<>();
        flatten(element, out);
        float[] values = new float[out.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = out.get(i);
        }
        return values;
    }

    /** The shape of a nested JSON number array. */
    static long[] shape(JsonElement element) {
        List<Long> dims = new ArrayList<>();
        JsonElement e = element;
        while (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            dims.add((long) a.size());
            e = a.get(0);
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static void flatten(JsonElement e, List<Float> out) {
        if (e.isJsonArray()) {
            for (JsonElement child : e.getAsJsonArray()) {
                flatten(child, out);
            }
        } else {
            out.add(e.getAsFloat());
        }
    }
}
