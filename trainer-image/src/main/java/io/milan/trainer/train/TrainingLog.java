package io.milan.trainer.train;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The reference's per-epoch log: one JSON object per line appended to {@code <output>/log.txt}, written by
 * rank 0 after each epoch, with the reference's keys, key order and number formatting ({@code json.dumps}).
 * Pretraining: {@code {"train_lr": …, "train_loss": …, "epoch": …}}. Fine-tuning and linear probing add
 * {@code test_loss, test_acc1, test_acc5} before the epoch and {@code n_parameters} after it.
 */
public final class TrainingLog {

    public static final String FILE_NAME = "log.txt";

    private final Path file;

    public TrainingLog(Path outputDir) {
        this.file = outputDir.resolve(FILE_NAME);
    }

    public Path file() {
        return file;
    }

    /** The pretraining line: epoch averages of the learning rate and the loss. */
    public static Map<String, Object> pretrainStats(int epoch, double trainLr, double trainLoss) {
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("train_lr", trainLr);
        stats.put("train_loss", trainLoss);
        stats.put("epoch", epoch);
        return stats;
    }

    /** The fine-tuning / linear-probing line; accuracies in percent, as timm's {@code accuracy}. */
    public static Map<String, Object> finetuneStats(int epoch, double trainLr, double trainLoss, double testLoss,
            double testAcc1, double testAcc5, long parameters) {
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("train_lr", trainLr);
        stats.put("train_loss", trainLoss);
        stats.put("test_loss", testLoss);
        stats.put("test_acc1", testAcc1);
        stats.put("test_acc5", testAcc5);
        stats.put("epoch", epoch);
        stats.put("n_parameters", parameters);
        return stats;
    }

    /**
     * Appends one line and forces it to disk, so a finished epoch's line survives a crash that follows.
     * Values: Double/Float, Integer/Long, Boolean, String.
     */
    public void append(Map<String, ?> stats) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        byte[] line = (toJson(stats) + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(false);
        }
    }

    /**
     * JSON exactly as Python's {@code json.dumps} writes it with default arguments: {@code ", "} and
     * {@code ": "} separators, floats as {@code repr(float)} (shortest round-trip digits; exponent form below
     * 1e-4 and from 1e16, e.g. {@code 1e-05}, {@code 0.0001}, {@code 2.0}), NaN/Infinity as bare words,
     * non-ASCII escaped.
     */
    static String toJson(Map<String, ?> values) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, ?> e : values.entrySet()) {
            if (!first) {
                sb.append(", ");
            }
            first = false;
            string(sb, e.getKey());
            sb.append(": ");
            value(sb, e.getValue());
        }
        return sb.append('}').toString();
    }

    private static void value(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Double || v instanceof Float) {
            sb.append(floatRepr(((Number) v).doubleValue()));
        } else if (v instanceof Number) {
            sb.append(((Number) v).longValue());
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else {
            string(sb, v.toString());
        }
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Python's {@code repr(float)}. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortestRoundTrip(Math.abs(d));
        String digits = shortest.unscaledValue().toString();
        int decpt = digits.length() - shortest.scale(); // value = 0.<digits> × 10^decpt
        String sign = d < 0 ? "-" : "";
        if (decpt <= -4 || decpt > 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            int exp = decpt - 1;
            return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        if (decpt <= 0) {
            return sign + "0." + "0".repeat(-decpt) + digits;
        }
        if (decpt < digits.length()) {
            return sign + digits.substring(0, decpt) + "." + digits.substring(decpt);
        }
        return sign + digits + "0".repeat(decpt - digits.length()) + ".0";
    }

    /** The fewest significant digits that read back as {@code d}; the closest such when several qualify. */
    private static BigDecimal shortestRoundTrip(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int precision = 1; precision <= 17; precision++) {
            BigDecimal best = null;
            for (RoundingMode mode : new RoundingMode[] {RoundingMode.HALF_EVEN, RoundingMode.FLOOR,
                    RoundingMode.CEILING}) {
                BigDecimal candidate = exact.round(new MathContext(precision, mode));
                if (candidate.doubleValue() == d && (best == null
                        || candidate.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                    best = candidate;
                }
            }
            if (best != null) {
                return best.stripTrailingZeros();
            }
        }
        return exact.round(MathContext.DECIMAL64).stripTrailingZeros();
    }
}
