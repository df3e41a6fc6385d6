package io.milan.trainer.data;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The fine-tuning golden values (trainer-image/tools/make_finetune_golden.py: timm 0.3.2, Pillow 9.4, torch 1.13). */
final class FinetuneGolden {

    static final JsonObject GOLDEN = load();

    private FinetuneGolden() {
    }

    private static JsonObject load() {
        try (InputStream in = FinetuneGolden.class.getResourceAsStream("/finetune/golden.json")) {
            if (in == null) {
                throw new IllegalStateException("test resource finetune/golden.json is missing");
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static RgbImage image(JsonObject o) {
        return new RgbImage(o.get("width").getAsInt(), o.get("height").getAsInt(),
                bytes(o.get("pixels").getAsString()));
    }

    static byte[] bytes(String base64) {
        return Base64.getDecoder().decode(base64);
    }

    static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsFloat();
        }
        return out;
    }

    static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }
}
