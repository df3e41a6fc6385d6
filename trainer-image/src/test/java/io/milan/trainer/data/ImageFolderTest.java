package io.milan.trainer.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {

    @TempDir
    Path root;

    @Test
    void classesAreSortedAndFilesFoundRecursivelyInSortedOrder() throws IOException {
        touch("zebra/b.JPEG");
        touch("zebra/a.png");
        touch("ant/sub/c.jpg");
        touch("ant/x.jpeg");
        touch("ant/notes.txt");
        touch("Bee/1.PNG");       // upper case sorts before lower case, as in Python
        Files.writeString(root.resolve("README"), "not a class");
        ImageFolder folder = ImageFolder.scan(root);
        assertEquals(List.of("Bee", "ant", "zebra"), folder.classes());
        List<String> files = folder.samples().stream().map(s -> root.relativize(s.file()).toString() + "=" + s.label())
                .toList();
        assertEquals(List.of("Bee/1.PNG=0", "ant/x.jpeg=1", "ant/sub/c.jpg=1", "zebra/a.png=2", "zebra/b.JPEG=2"),
                files);
    }

    @Test
    void missingDirectoryIsNamed() {
        Path missing = root.resolve("imagenet/train");
        IOException e = assertThrows(ImageFolder.DatasetException.class, () -> ImageFolder.scan(missing));
        assertEquals("dataset directory " + missing + " does not exist", e.getMessage());
    }

    @Test
    void fileInsteadOfDirectoryIsNamed() throws IOException {
        Path file = Files.writeString(root.resolve("train"), "x");
        IOException e = assertThrows(ImageFolder.DatasetException.class, () -> ImageFolder.scan(file));
        assertEquals("dataset path " + file + " is not a directory", e.getMessage());
    }

    @Test
    void directoryWithoutClassesIsNamed() throws IOException {
        touchAt(root.resolve("loose.jpg"));
        IOException e = assertThrows(ImageFolder.DatasetException.class, () -> ImageFolder.scan(root));
        assertTrue(e.getMessage().startsWith("dataset directory " + root + " has no class subdirectories"),
                e.getMessage());
    }

    @Test
    void emptyClassIsNamed() throws IOException {
        touch("cat/1.jpg");
        Files.createDirectories(root.resolve("dog"));
        touch("dog/readme.txt");
        IOException e = assertThrows(ImageFolder.DatasetException.class, () -> ImageFolder.scan(root));
        assertEquals("no images (jpeg, jpg, png) in class directory " + root.resolve("dog"), e.getMessage());
    }

    private void touch(String relative) throws IOException {
        touchAt(root.resolve(relative));
    }

    private static void touchAt(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[] {1});
    }
}
