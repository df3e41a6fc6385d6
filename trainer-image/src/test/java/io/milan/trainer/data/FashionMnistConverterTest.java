package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistConverterTest {

    @TempDir
    Path dir;

    @Test
    void convertsRecordsIntoAnRgbImageFolder() throws Exception {
        Path source = dir.resolve("src");
        // 20 training records, 2 per class (record i has label i % 10), each a constant image of value 10·i;
        // record 3 additionally has one bright pixel. 10 test records, labels 9..0, values 1..10.
        byte[][] train = new byte[20][];
        byte[] trainLabels = new byte[20];
        for (int i = 0; i < 20; i++) {
            train[i] = constant(10 * i);
            trainLabels[i] = (byte) (i % 10);
        }
        train[3][28 * 5 + 7] = (byte) 255;
        writeIdx(source, "train", train, trainLabels);
        byte[][] test = new byte[10][];
        byte[] testLabels = new byte[10];
        for (int i = 0; i < 10; i++) {
            test[i] = constant(i + 1);
            testLabels[i] = (byte) (9 - i);
        }
        writeIdx(source, "t10k", test, testLabels);

        Path out = dir.resolve("fmnist");
        FashionMnistConverter.Summary s = FashionMnistConverter.convert(source, out, 32, 0.5, 3);
        assertEquals(10, s.trainImages()); // stratified: 1 of the 2 per class
        assertEquals(10, s.valImages());

        ImageFolder trainFolder = ImageFolder.scan(out.resolve("train"));
        assertEquals(List.of("0-t-shirt-top", "1-trouser", "2-pullover", "3-dress", "4-coat", "5-sandal", "6-shirt",
                "7-sneaker", "8-bag", "9-ankle-boot"), trainFolder.classes());
        for (int c = 0; c < 10; c++) {
            int label = c;
            List<ImageFolder.Sample> members = trainFolder.samples().stream().filter(x -> x.label() == label).toList();
            assertEquals(1, members.size(), "class " + c);
            int record = Integer.parseInt(members.get(0).file().getFileName().toString().replace(".png", ""));
            assertEquals(c, record % 10, "record " + record + " is in the folder of its label");
            RgbImage image = ImageDecoder.decode(members.get(0).file());
            assertEquals(32, image.width());
            assertEquals(32, image.height());
            if (record != 3) {
                for (int p = 0; p < 32 * 32 * 3; p++) {
                    assertEquals(10 * record, image.pixels()[p] & 0xff, "constant image stays constant");
                }
            }
        }

        ImageFolder valFolder = ImageFolder.scan(out.resolve("val"));
        assertEquals(10, valFolder.size());
        assertEquals(trainFolder.classes(), valFolder.classes());
        Path record0 = out.resolve("val/9-ankle-boot/00000.png");
        assertTrue(Files.exists(record0));
        assertEquals(1, ImageDecoder.decode(record0).get(31, 31, 2));
        assertNoTemporaries();
    }

    @Test
    void brightPixelIsResizedLikePillowAndChannelsStayEqual() throws Exception {
        Path source = dir.resolve("src");
        byte[] img = constant(0);
        img[28 * 5 + 7] = (byte) 255;
        writeAllClasses(source, "train", img, 4);
        writeAllClasses(source, "t10k", constant(0), 0);
        Path out = dir.resolve("o");
        FashionMnistConverter.convert(source, out, 56, 1.0, 0);
        RgbImage image = ImageDecoder.decode(out.resolve("train/4-coat/00004.png"));
        RgbImage gray = new RgbImage(28, 28, rgb(img));
        RgbImage expected = PilResample.resize(gray, 56, 56, PilResample.Filter.BICUBIC);
        assertTrue(java.util.Arrays.equals(expected.pixels(), image.pixels()));
        // 2x upscale of one bright pixel: the peak lands around (15, 11), channels equal.
        assertTrue(image.get(15, 11, 0) > 150, "peak " + image.get(15, 11, 0));
        assertEquals(image.get(15, 11, 0), image.get(15, 11, 2));
    }

    @Test
    void existingOutputIsRefused() throws Exception {
        Path source = dir.resolve("src");
        writeAllClasses(source, "train", constant(0), 0);
        writeAllClasses(source, "t10k", constant(0), 0);
        Path out = Files.createDirectories(dir.resolve("exists"));
        IOException e = assertThrows(IOException.class, () -> FashionMnistConverter.convert(source, out, 32, 1, 0));
        assertEquals("output directory " + out + " already exists; remove it or choose another", e.getMessage());
    }

    @Test
    void missingOrBrokenSourceFilesAreNamed() throws Exception {
        Path source = dir.resolve("src");
        Files.createDirectories(source);
        IOException e = assertThrows(IOException.class,
                () -> FashionMnistConverter.convert(source, dir.resolve("o"), 32, 1, 0));
        assertTrue(e.getMessage().contains(source.resolve("train-images-idx3-ubyte.gz") + " does not exist"),
                e.getMessage());

        writeIdx(source, "train", new byte[][] {constant(0), constant(0)}, new byte[] {0});
        e = assertThrows(IOException.class, () -> FashionMnistConverter.convert(source, dir.resolve("o"), 32, 1, 0));
        assertTrue(e.getMessage().contains("has 1 labels but"), e.getMessage());

        writeIdx(source, "train", new byte[][] {constant(0)}, new byte[] {3});
        e = assertThrows(IOException.class, () -> FashionMnistConverter.convert(source, dir.resolve("o"), 32, 1, 0));
        assertTrue(e.getMessage().contains("has no record of class 0 (T-shirt/top)"), e.getMessage());

        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(
                source.resolve("train-images-idx3-ubyte.gz"))))) {
            out.writeInt(0x801);
        }
        e = assertThrows(IOException.class, () -> FashionMnistConverter.convert(source, dir.resolve("o"), 32, 1, 0));
        assertTrue(e.getMessage().contains("magic number 0x00000801, expected 0x00000803"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("o")));
        assertNoTemporaries();
    }

    @Test
    void stratifiedSubsetKeepsTheFractionOfEveryClass() {
        byte[] labels = new byte[1000];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (byte) (i % 10);
        }
        List<Integer> kept = FashionMnistConverter.stratifiedSubset(labels, 0.1, 5);
        assertEquals(100, kept.size());
        for (int c = 0; c < 10; c++) {
            int cls = c;
            assertEquals(10, kept.stream().filter(i -> i % 10 == cls).count());
        }
        assertEquals(kept, FashionMnistConverter.stratifiedSubset(labels, 0.1, 5));
        assertFalse(kept.equals(FashionMnistConverter.stratifiedSubset(labels, 0.1, 6)));
        assertEquals(kept.stream().sorted().toList(), kept);
    }

    private void assertNoTemporaries() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "temporary directory left");
        }
    }

    /** Ten records, one per class; record {@code special} is {@code image}, the others are black. */
    private static void writeAllClasses(Path dir, String split, byte[] image, int special) throws IOException {
        byte[][] images = new byte[10][];
        byte[] labels = new byte[10];
        for (int i = 0; i < 10; i++) {
            images[i] = i == special ? image : constant(0);
            labels[i] = (byte) i;
        }
        writeIdx(dir, split, images, labels);
    }

    private static byte[] constant(int value) {
        byte[] img = new byte[28 * 28];
        java.util.Arrays.fill(img, (byte) value);
        return img;
    }

    private static byte[] rgb(byte[] gray) {
        byte[] out = new byte[gray.length * 3];
        for (int i = 0; i < gray.length; i++) {
            out[3 * i] = gray[i];
            out[3 * i + 1] = gray[i];
            out[3 * i + 2] = gray[i];
        }
        return out;
    }

    private static void writeIdx(Path dir, String split, byte[][] images, byte[] labels) throws IOException {
        Files.createDirectories(dir);
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(
                dir.resolve(split + "-images-idx3-ubyte.gz"))))) {
            out.writeInt(0x803);
            out.writeInt(images.length);
            out.writeInt(28);
            out.writeInt(28);
            for (byte[] image : images) {
                out.write(image);
            }
        }
        try (DataOutputStream out = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(
                dir.resolve(split + "-labels-idx1-ubyte.gz"))))) {
            out.writeInt(0x801);
            out.writeInt(labels.length);
            out.write(labels);
        }
    }
}
