package io.milan.trainer.eval;

import io.milan.trainer.checkpoint.AtomicFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;

/**
 * Per-image predictions for {@code --predictions FILE}: one CSV row per image, in dataset order, with the
 * image's path, its label and its top-k classes (best first) with their logits:
 * <pre>path,label,class_1,logit_1,...,class_5,logit_5</pre>
 * Rows are keyed by dataset index, so the copies a padded distributed sampler evaluates twice collapse into
 * one. Ranks exchange their rows with {@link #encode()} / {@link #decode(byte[])} (e.g. an all-gather) and
 * {@link #merge}; the primary writes the file atomically (a reader never sees a partial file).
 */
public final class Predictions {

    /** One image's prediction. */
    public record Row(long index, String path, long label, long[] classes, float[] logits) {
        public Row {
            if (classes.length != logits.length) {
                throw new IllegalArgumentException("row " + index + ": " + classes.length + " classes but "
                        + logits.length + " logits");
            }
            classes = classes.clone();
            logits = logits.clone();
        }
    }

    private final Map<Long, Row> rows = new TreeMap<>();

    /**
     * Adds a batch.
     *
     * @param indices dataset indices of the samples (e.g. {@code Batch.indices()})
     * @param labels  their labels
     * @param topK    their top-k (usually k = 5)
     * @param pathOf  the file path of a dataset index (e.g. {@code i -> folder.get((int) i).file().toString()})
     */
    public void add(long[] indices, long[] labels, TopK topK, LongFunction<String> pathOf) {
        if (indices.length != labels.length || indices.length != topK.size()) {
            throw new IllegalArgumentException("predictions batch: " + indices.length + " indices, " + labels.length
                    + " labels, " + topK.size() + " top-k rows");
        }
        for (int i = 0; i < indices.length; i++) {
            add(new Row(indices[i], pathOf.apply(indices[i]), labels[i], topK.classes()[i], topK.logits()[i]));
        }
    }

    /** Adds one row; a row for the same dataset index replaces the earlier one. */
    public void add(Row row) {
        if (!rows.isEmpty()) {
            int k = rows.values().iterator().next().classes().length;
            if (row.classes().length != k) {
                throw new IllegalArgumentException("row " + row.index() + " has top-" + row.classes().length
                        + " but earlier rows have top-" + k);
            }
        }
        rows.put(row.index(), row);
    }

    /** Adds every row of {@code other} (another rank's); returns this. */
    public Predictions merge(Predictions other) {
        other.rows().forEach(this::add);
        return this;
    }

    /** Rows in dataset order. */
    public Collection<Row> rows() {
        return Collections.unmodifiableCollection(rows.values());
    }

    public int size() {
        return rows.size();
    }

    /** The rows as bytes, to send to another rank. */
    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(rows.size());
            for (Row r : rows.values()) {
                out.writeLong(r.index());
                byte[] path = r.path().getBytes(StandardCharsets.UTF_8);
                out.writeInt(path.length);
                out.write(path);
                out.writeLong(r.label());
                out.writeInt(r.classes().length);
                for (int j = 0; j < r.classes().length; j++) {
                    out.writeLong(r.classes()[j]);
                    out.writeFloat(r.logits()[j]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Rows encoded by {@link #encode()}. */
    public static Predictions decode(byte[] encoded) {
        Predictions p = new Predictions();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                long index = in.readLong();
                byte[] path = new byte[in.readInt()];
                in.readFully(path);
                long label = in.readLong();
                int k = in.readInt();
                long[] classes = new long[k];
                float[] logits = new float[k];
                for (int j = 0; j < k; j++) {
                    classes[j] = in.readLong();
                    logits[j] = in.readFloat();
                }
                p.add(new Row(index, new String(path, StandardCharsets.UTF_8), label, classes, logits));
            }
            if (in.available() != 0) {
                throw new IllegalArgumentException("encoded predictions have " + in.available() + " trailing bytes");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("encoded predictions are truncated or corrupt: " + e.getMessage(), e);
        }
        return p;
    }

    /** Writes the CSV to {@code file} atomically (temporary file, fsync, rename). */
    public void writeCsv(Path file) throws IOException {
        AtomicFiles.write(file, toCsv().getBytes(StandardCharsets.UTF_8));
    }

    /** The CSV text: a header, then one row per image in dataset order; logits as shortest round-trip floats. */
    public String toCsv() {
        int k = rows.isEmpty() ? 5 : rows.values().iterator().next().classes().length;
        StringBuilder sb = new StringBuilder("path,label");
        for (int j = 1; j <= k; j++) {
            sb.append(",class_").append(j).append(",logit_").append(j);
        }
        sb.append('\n');
        for (Row r : rows.values()) {
            sb.append(csvField(r.path())).append(',').append(r.label());
            for (int j = 0; j < k; j++) {
                sb.append(',').append(r.classes()[j]).append(',').append(Float.toString(r.logits()[j]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** RFC 4180: quote fields holding a comma, quote or line break, doubling inner quotes. */
    static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
