import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Copies the native libraries the trainer loads out of the jars on its classpath, for check-native-libs.sh (the
 * trainer images carry no unzip; the JRE carries the compiler module, so this runs as a source file):
 * <ul>
 * <li>JNA's resources for this platform, {@code [prefix/]linux-x86-64/lib*.so}: libmilanjpeg.so and
 * libmilantorch.so in the trainer's jar, libmilantorch_cuda.so in the CUDA image's milantorch-cuda jar,
 * {@code com/sun/jna/linux-x86-64/libjnidispatch.so} in JNA's jar (JNA extracts them into /tmp at run time);</li>
 * <li>OpenCV's {@code nu/pattern/opencv/linux/x86_64/libopencv_java*.so} ({@code OpenCV.loadLocally()}).</li>
 * </ul>
 * Not the JNIs in DJL's pytorch-jni jar: the images load DJL's JNI from PYTORCH_LIBRARY_PATH, a directory the
 * check reads itself.
 *
 * <pre>java NativeLibsInJars.java OUT_DIR JAR...</pre>
 * prints one line per library: the copy's path, a tab, {@code <jar file name>!<entry>}.
 */
public final class NativeLibsInJars {

    private static final Pattern LOADED = Pattern.compile(
            "(?:.*/)?linux-x86-64/lib[^/]*\\.so|nu/pattern/opencv/linux/x86_64/lib[^/]*\\.so");

    private NativeLibsInJars() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: java NativeLibsInJars.java OUT_DIR JAR...");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        for (int i = 1; i < args.length; i++) {
            Path jar = Path.of(args[i]);
            String jarName = jar.getFileName().toString();
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                for (ZipEntry entry : Collections.list(zip.entries())) {
                    if (entry.isDirectory() || !LOADED.matcher(entry.getName()).matches()) {
                        continue;
                    }
                    Path copy = out.resolve(jarName).resolve(entry.getName());
                    Files.createDirectories(copy.getParent());
                    try (InputStream in = zip.getInputStream(entry)) {
                        Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
                    }
                    System.out.println(copy + "\t" + jarName + "!" + entry.getName());
                }
            }
        }
    }
}
